"""The application: runs the CNN and the TorchScript functions stored in its database.

    python infer.py [NEGATE_SCRIPT [TIMESTWO_SCRIPT]]

The arguments name the scripts holding ``negate`` and ``timestwo`` (default:
``negate`` and ``timestwo``, as experiment.py stores them). Prints one JSON line.
"""

import json
import sys

import numpy as np

from sscontainer import Client

negate_key = sys.argv[1] if len(sys.argv) > 1 else "negate"
timestwo_key = sys.argv[2] if len(sys.argv) > 2 else "timestwo"

client = Client(logger_name="infer")  # SSDB and SR_DB_TYPE come from the environment
images = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
client.put_tensor("images", images)

client.run_script(negate_key, "negate", ["images"], ["negated"])
client.run_script(timestwo_key, "timestwo", ["negated"], ["doubled"])
client.run_model("cnn", inputs=["images"], outputs=["scores"])

scores = client.get_tensor("scores")
print(json.dumps({
    "negate_ok": bool(np.array_equal(client.get_tensor("negated"), -images)),
    "timestwo_ok": bool(np.array_equal(client.get_tensor("doubled"), -2 * images)),
    "scores_shape": list(scores.shape),
    "classes": scores.argmax(axis=1).tolist(),
}))
