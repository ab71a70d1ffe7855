#!/usr/bin/env python3
"""Accuracy table of cv.sh from its `personcls eval --json` outputs (EVAL_DIR/SET.MODEL.json).

One row per evaluation set, one column per model, plus `ensemble`: the argmax of the mean of the
two float teachers' probabilities. The row `folds` is the mean of the fold rows. Accuracies in %.
Usage: cv_table.py EVAL_DIR
"""
import glob
import json
import os
import sys

MODELS = ["student_float", "student_int8", "mlperf_vww_96_float", "mlperf_vww_96_int8", "tinymaix_vww96_f", "tinymaix_vww96_q"]
ENSEMBLE = ["mlperf_vww_96_float", "tinymaix_vww96_f"]


def main(eval_dir):
    runs = {}
    for path in glob.glob(os.path.join(eval_dir, "*.json")):
        name = os.path.basename(path)[: -len(".json")]
        s, m = name.split(".", 1)
        with open(path) as f:
            runs.setdefault(s, {})[m] = json.load(f)
    rows = {}
    for s, by_model in runs.items():
        row = {m: 100.0 * by_model[m]["accuracy"] for m in MODELS if m in by_model}
        if all(m in by_model for m in ENSEMBLE):
            preds = [by_model[m]["predictions"] for m in ENSEMBLE]
            correct = 0
            for i, p in enumerate(preds[0]):
                mean = [sum(q[i]["scores"][k] for q in preds) / len(preds) for k in range(len(p["scores"]))]
                correct += max(range(len(mean)), key=mean.__getitem__) == p["true_index"]
            row["ensemble"] = 100.0 * correct / len(preds[0])
        rows[s] = row
    folds = sorted(s for s in rows if s.startswith("fold"))
    if folds:
        rows["folds"] = {m: sum(rows[f][m] for f in folds) / len(folds) for m in rows[folds[0]]}
    order = [s for s in ["coco_val", "dev", "folds"] if s in rows] + folds
    cols = MODELS + ["ensemble"]
    print("set," + ",".join(cols))
    for s in order:
        print(s + "," + ",".join("%.1f" % rows[s][c] if c in rows[s] else "" for c in cols))


if __name__ == "__main__":
    main(sys.argv[1])
