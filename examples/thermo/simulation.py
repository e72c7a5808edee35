"""A toy simulation that reads its configured input file (the guide's THERMO example)."""

values = {}
with open("params_inputs.txt", encoding="utf-8") as handle:
    for line in handle:
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()

thermo = float(values["THERMO"])
steps = int(values["STEPS"])
energy = 0.0
for _step in range(steps):
    energy += thermo * 0.5
print(f"THERMO={thermo} STEPS={steps} energy={energy}")
