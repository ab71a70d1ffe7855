# The distillation recipe of the default model, sourced by cv.sh and make_default_model.sh
# so that the cross-validated recipe and the shipped one are the same. Paths are relative
# to $shared (../shared). docs/default-model.md explains each choice.
DISTILL_TEACHERS=("$shared/models/mlperf_vww_96_float.tflite" "$shared/models/tinymaix_vww96_f.tflite")
# The pool's sources are its sub-directories; at most 600 images of each, so that INRIA
# pedestrian crops and the CCTV scenes do not dominate (DISTILL_POOL_CAP=N changes the cap).
DISTILL_UNLABELED=("$shared/data/pool/images")
# The student starts from SSCMA's own MobileNetV2-0.35-Rep trained on CIFAR-10 (same
# backbone shapes; its 10-class head is not used): DISTILL_INIT=none starts from SSCMA's
# random init instead.
DISTILL_INIT="${DISTILL_INIT:-$shared/models/sscma_mbv2_0.35_rep_cifar10_int8.tflite}"
# DISTILL_FEATURE_WEIGHT=W adds feature distillation (distill --feature-weight; 0, off, in the
# shipped recipe: it did not help, docs/default-model.md).
DISTILL_FLAGS=(--arch "${DISTILL_ARCH:-mbv2-rep-0.35}" --epochs "${DISTILL_EPOCHS:-240}" --batch 64 --labeled-per-batch 24
  --lr 5e-3 --wd 0.05 --warmup 0.05 --temperature 1 --hard-weight 0.3 --labeled-area 0.6 --unlabeled-area 0.35 --jitter 0.3
  --unlabeled-max-per-dir "${DISTILL_POOL_CAP:-600}" --unlabeled-size 128 --seed "${DISTILL_SEED:-1}"
  --feature-weight "${DISTILL_FEATURE_WEIGHT:-0}")
[ "$DISTILL_INIT" = none ] || DISTILL_FLAGS+=(--init "$DISTILL_INIT")
