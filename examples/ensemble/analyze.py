"""Collects the energy printed by every ensemble member (runs after the sweep)."""

import glob
import os

exp_dir = os.path.dirname(os.getcwd())
rows = []
for path in sorted(glob.glob(os.path.join(exp_dir, "sweep", "sweep_*", "sweep_*.out"))):
    with open(path, encoding="utf-8") as handle:
        rows.append(f"{os.path.basename(os.path.dirname(path))}: {handle.read().strip()}")
if not rows:
    raise SystemExit("no ensemble output found")
print("\n".join(rows))
