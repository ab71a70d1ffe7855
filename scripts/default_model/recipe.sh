# The distillation recipe of the default model, sourced by cv.sh and make_default_model.sh so
# that the measured recipe and the shipped one are the same. $shared is ../shared; $split is
# the output of pool_split.sh (pool2 without its held-out COCO validation photos).
# docs/default-model.md explains each choice.
DISTILL_TEACHERS=("$shared/models/mlperf_vww_96_float.tflite" "$shared/models/tinymaix_vww96_f.tflite")
# Both pools, read through their index.csv (sources and person labels). No vww01-dev image is
# trained on: vww01-dev stays a clean test set.
DISTILL_POOLS=("$shared/data/pool" "$split/pool2_train.csv")
# The mix: a source is drawn with weight min(its images, 1000) x its factor, so that the 6,000
# Places365 rooms or the 2,400 INRIA crops cannot dominate while all their images are still
# used. COCO photos are what VWW is made of: x3. INRIA's tight pedestrian crops look like no
# VWW image: x0.5. DISTILL_SOURCE_CAP changes the cap.
DISTILL_MIX=(--source-cap "${DISTILL_SOURCE_CAP:-1000}" --source-weight inria_pos96x160=0.5 --source-weight coco_vqa_train2014=3)
for s in coco_mini_obm coco_mini_yuan coco_person_minto coco_sub_atss coco_sub_dbgdl coco_sub_mchoccie coco_tiny_eng coco_tiny_zzo; do
  DISTILL_MIX+=(--source-weight "$s=3")
done
# The student starts from SSCMA's own MobileNetV2-0.35-Rep trained on CIFAR-10 (same backbone
# shapes; wider students are widened from it): DISTILL_INIT=none starts from SSCMA's random init.
DISTILL_INIT="${DISTILL_INIT:-$shared/models/sscma_mbv2_0.35_rep_cifar10_int8.tflite}"
DISTILL_FLAGS=(--arch "${DISTILL_ARCH:-mbv2-rep-0.5}" --epochs "${DISTILL_EPOCHS:-24}" --batch 64 --labeled-per-batch 0
  --lr 5e-3 --wd 0.05 --warmup 0.05 --temperature 1 --hard-weight 0.3 --labeled-area 0.6 --unlabeled-area 0.35 --jitter 0.3
  --unlabeled-size 128 --pool-labels "${DISTILL_MIX[@]}" --seed "${DISTILL_SEED:-1}" --feature-weight "${DISTILL_FEATURE_WEIGHT:-0}")
[ "$DISTILL_INIT" = none ] || DISTILL_FLAGS+=(--init "$DISTILL_INIT")
