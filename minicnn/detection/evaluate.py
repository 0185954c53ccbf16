"""Detection metrics: COCO's average precision (as pycocotools' COCOeval computes it) and
PASCAL VOC's (11-point and all-point).

Detections and ground truth are lists with one dict per image:

    detections[i]    = {"boxes": (D, 4) xyxy, "scores": (D,), "labels": (D,)}
    ground_truths[i] = {"boxes": (G, 4) xyxy, "labels": (G,),
                        optional "iscrowd": (G,) bool, "area": (G,) (default: box area)}

and, to evaluate instance masks (iou_type='segm'), "masks": (n, H, W) 0/1 in both.

COCO AP (coco_evaluate), per class, area range and detection limit:
  1. In each image, the class's detections by descending score (ties in input order), the
     first max_dets of them; the boxes marked crowd, or whose area lies outside the range,
     are 'ignored' and sorted after the others.
  2. Greedy matching at each IoU threshold t in 0.50, 0.55, ..., 0.95: each detection takes
     the unmatched, not ignored box of highest IoU >= t (ties: the later box), else the
     ignored box of highest IoU >= t (a crowd box may take many detections; its IoU is the
     intersection over the detection's area). A detection matched to an ignored box, or
     unmatched and outside the area range, is ignored: neither true nor false positive.
  3. Over all images, the detections by descending score: precision and recall after each;
     precision made non-increasing from the right (the envelope), read at the 101 recall
     levels 0, 0.01, ..., 1 (the first detection reaching each level, 0 beyond the last).
     AP is their mean; recall is the final recall.
  The 12 numbers of `stats` are means over classes (and thresholds) of these, skipping
  classes without ground truth: AP@[.5:.95], AP@.5, AP@.75, AP small/medium/large (area
  < 32^2, 32^2-96^2, > 96^2 pixels, bounds inclusive), AR with 1, 10, 100 detections per
  image, AR small/medium/large. -1 where nothing was evaluated.

VOC AP (voc_evaluate, one IoU threshold, 0.5 by default): detections of a class over all
images by descending confidence; a detection is a true positive if its IoU with a box of
its image is strictly greater than the threshold (VOC's `ovmax > ovthresh`) and that box is
not taken yet, otherwise a false positive; boxes marked difficult are neither. AP is the
area under the precision envelope (all-point, VOC 2010 on) or the mean of the best
precision at recall >= 0, 0.1, ..., 1 (11-point, VOC 2007). Boxes here have no VOC '+1'.
"""
from dataclasses import dataclass

import numpy

from .boxes import as_numpy, box_area, box_intersection, check_boxes

__all__ = ["CocoEvaluation", "coco_evaluate", "detected", "voc_ap", "voc_evaluate", "COCO_STAT_NAMES"]

IOU_THRESHOLDS = numpy.linspace(0.5, 0.95, int(numpy.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_LEVELS = numpy.linspace(0.0, 1.00, int(numpy.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
AREA_RANGES = {"all": (0 ** 2, 1e5 ** 2), "small": (0 ** 2, 32 ** 2),
               "medium": (32 ** 2, 96 ** 2), "large": (96 ** 2, 1e5 ** 2)}
MAX_DETS = (1, 10, 100)
COCO_STAT_NAMES = ("AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
                   "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large")


@dataclass
class CocoEvaluation:
    stats: numpy.ndarray      # the 12 numbers, in COCO_STAT_NAMES order
    precision: numpy.ndarray  # (thresholds, 101 recall levels, classes, 4 areas, 3 max_dets), -1: none
    recall: numpy.ndarray     # (thresholds, classes, 4 areas, 3 max_dets)
    classes: list             # the class labels of the third axis

    def summary(self):
        return dict(zip(COCO_STAT_NAMES, self.stats.tolist()))

    def ap_per_class(self, iou_threshold=0.5):
        """{class: AP at one IoU threshold (all areas, 100 detections)}, None for a class
        without ground truth."""
        curves = self.precision[int(numpy.flatnonzero(numpy.isclose(IOU_THRESHOLDS, iou_threshold))[0]), :, :, 0, 2]
        return {label: float(curve.mean()) if (curve > -1).all() else None
                for label, curve in zip(self.classes, curves.T)}


def _image(op, entry, i, kind, iou_type="bbox"):
    """One image's arrays, checked: boxes (n, 4), and one label (and score) per box; for
    iou_type 'segm' its masks (n, H, W) too, flattened. 'region_area' is each box's or
    mask's area (pixels of the mask)."""
    boxes = as_numpy(entry["boxes"]).astype(numpy.float64)
    check_boxes(op, f"{kind}[{i}]['boxes']", boxes.reshape(-1, 4) if boxes.size == 0 else boxes)
    boxes = boxes.reshape(-1, 4)
    fields = {"boxes": boxes, "labels": as_numpy(entry["labels"]).astype(numpy.int64).reshape(-1)}
    if iou_type == "segm":
        if "masks" not in entry:
            raise ValueError(f"{op}: {kind}[{i}] has no 'masks', which iou_type='segm' compares")
        masks = as_numpy(entry["masks"])
        fields["masks"] = masks.reshape(len(masks), -1).astype(bool)
        fields["region_area"] = fields["masks"].sum(axis=1).astype(numpy.float64)
    else:
        fields["region_area"] = box_area(boxes)
    optional = {"scores": None, "iscrowd": numpy.zeros(len(boxes), bool), "difficult":
                numpy.zeros(len(boxes), bool), "area": None}
    for name, default in optional.items():
        if name in entry:
            fields[name] = as_numpy(entry[name]).reshape(-1)
        elif name == "scores" and kind == "detections":
            raise ValueError(f"{op}: detections[{i}] has no 'scores'")
        else:
            fields[name] = default
    for name, values in fields.items():
        if values is not None and name != "boxes" and len(values) != len(boxes):
            raise ValueError(f"{op}: {kind}[{i}] has {len(boxes)} boxes but {len(values)} {name}")
    if fields["scores"] is not None and numpy.isnan(fields["scores"].astype(float)).any():
        raise ValueError(f"{op}: detections[{i}] has a NaN score")
    return fields


def _check_lists(op, detections, ground_truths, iou_type="bbox"):
    if len(detections) != len(ground_truths):
        raise ValueError(f"{op}: detections and ground_truths need one entry per image, got "
                         f"{len(detections)} and {len(ground_truths)}")
    return ([_image(op, d, i, "detections", iou_type) for i, d in enumerate(detections)],
            [_image(op, g, i, "ground_truths", iou_type) for i, g in enumerate(ground_truths)])


def _coco_iou(dt_boxes, gt_boxes, iscrowd):
    """pycocotools' box IoU: (D, G); a crowd box's IoU is intersection / detection area."""
    if len(dt_boxes) == 0 or len(gt_boxes) == 0:
        return numpy.zeros((len(dt_boxes), len(gt_boxes)))
    inter = box_intersection(dt_boxes, gt_boxes)
    dt_area, gt_area = box_area(dt_boxes)[:, None], box_area(gt_boxes)[None, :]
    union = numpy.where(iscrowd[None, :], dt_area, dt_area + gt_area - inter)
    with numpy.errstate(invalid="ignore", divide="ignore"):
        return numpy.where(inter > 0, inter / union, 0.0)


def _mask_iou(dt_masks, gt_masks, iscrowd):
    """pycocotools' mask IoU of flattened 0/1 masks: (D, G); a crowd region's IoU is the
    intersection over the detection's area."""
    inter = dt_masks.astype(numpy.float64) @ gt_masks.T.astype(numpy.float64)
    dt_area, gt_area = dt_masks.sum(axis=1)[:, None], gt_masks.sum(axis=1)[None, :]
    union = numpy.where(iscrowd[None, :], dt_area, dt_area + gt_area - inter)
    with numpy.errstate(invalid="ignore", divide="ignore"):
        return numpy.where(inter > 0, inter / union, 0.0)


def _overlaps(dt, gt, dt_order, gt_order):
    """IoU (D, G) of the ordered detections and truths: of their masks if they have them."""
    if "masks" in dt:
        return _mask_iou(dt["masks"][dt_order], gt["masks"][gt_order], gt["iscrowd"][gt_order])
    return _coco_iou(dt["boxes"][dt_order], gt["boxes"][gt_order], gt["iscrowd"][gt_order])


def _match(iou, gt_ignored, iscrowd, thresholds):
    """COCOeval.evaluateImg's greedy matching at every threshold at once. iou (D, G) with
    detections by descending score and boxes not ignored first. Returns the matched box per
    (threshold, detection), -1 if none."""
    count = len(thresholds)
    matched_box = numpy.full((count, iou.shape[0]), -1)
    if iou.shape[1] == 0:
        return matched_box
    taken = numpy.zeros((count, iou.shape[1]), bool)
    floor = numpy.minimum(thresholds, 1 - 1e-10)[:, None]
    for d in range(iou.shape[0]):
        free = ~taken | iscrowd[None, :]
        candidates = free & (iou[d][None, :] >= floor)
        for group in (~gt_ignored, gt_ignored):    # a box not ignored first, if any qualifies
            options = numpy.where(candidates & group[None, :], iou[d][None, :], -numpy.inf)
            # the highest IoU, ties to the later box (COCOeval replaces on >=)
            last = options.shape[1] - 1 - numpy.argmax(options[:, ::-1], axis=1)
            found = numpy.isfinite(options.max(axis=1, initial=-numpy.inf)) & (matched_box[:, d] < 0)
            matched_box[found, d] = last[found]
            taken[numpy.flatnonzero(found), last[found]] = True
    return matched_box


def _evaluate_image(dt, gt, area_range, max_det):
    """One image and class: (scores, matched (T, D) bool, ignored detections (T, D), number
    of boxes not ignored), or None when it has neither boxes nor detections."""
    if len(dt["boxes"]) == 0 and len(gt["boxes"]) == 0:
        return None
    gt_ignored = gt["iscrowd"] | (gt["area"] < area_range[0]) | (gt["area"] > area_range[1])
    gt_order = numpy.argsort(gt_ignored, kind="mergesort")
    dt_order = numpy.argsort(-dt["scores"], kind="mergesort")[:max_det]
    iou = _overlaps(dt, gt, dt_order, gt_order)
    boxes = _match(iou, gt_ignored[gt_order], gt["iscrowd"][gt_order], IOU_THRESHOLDS)
    matched = boxes >= 0
    dt_area = dt["region_area"][dt_order]
    outside = (dt_area < area_range[0]) | (dt_area > area_range[1])
    # boxes = -1 (unmatched) reads the appended entry, which where() then discards.
    ignored = numpy.where(matched, numpy.append(gt_ignored[gt_order], False)[boxes], outside[None, :])
    return dt["scores"][dt_order], matched, ignored, int((~gt_ignored).sum())


def _precision_recall(results, max_det):
    """COCOeval.accumulate for one class, area and limit: precision (T, 101), recall (T,)."""
    results = [r for r in results if r is not None]
    count = len(IOU_THRESHOLDS)
    if not results or sum(r[3] for r in results) == 0:
        return -numpy.ones((count, len(RECALL_LEVELS))), -numpy.ones(count)
    scores = numpy.concatenate([r[0][:max_det] for r in results])
    order = numpy.argsort(-scores, kind="mergesort")
    matched = numpy.concatenate([r[1][:, :max_det] for r in results], axis=1)[:, order]
    ignored = numpy.concatenate([r[2][:, :max_det] for r in results], axis=1)[:, order]
    positives = sum(r[3] for r in results)
    true_positives = numpy.cumsum(matched & ~ignored, axis=1).astype(float)
    false_positives = numpy.cumsum(~matched & ~ignored, axis=1).astype(float)
    precision = numpy.zeros((count, len(RECALL_LEVELS)))
    recall = numpy.zeros(count)
    for t in range(count):
        rc = true_positives[t] / positives
        pr = true_positives[t] / (false_positives[t] + true_positives[t] + numpy.spacing(1))
        if len(rc):
            recall[t] = rc[-1]
        envelope = numpy.maximum.accumulate(pr[::-1])[::-1]
        at = numpy.searchsorted(rc, RECALL_LEVELS, side="left")
        reached = at < len(envelope)
        precision[t, reached] = envelope[at[reached]]
    return precision, recall


def coco_evaluate(detections, ground_truths, classes=None, iou_type="bbox"):
    """COCO AP and AR (module docstring) -> CocoEvaluation; `classes` defaults to every label
    that occurs in either list. iou_type 'segm' compares the 'masks' (n, H, W) of detections
    and truths instead of their boxes (the areas are then mask areas too), as COCOeval's
    'segm' does."""
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"coco_evaluate: iou_type must be 'bbox' or 'segm', got {iou_type!r}")
    dts, gts = _check_lists("coco_evaluate", detections, ground_truths, iou_type)
    for gt in gts:
        if gt["area"] is None:
            gt["area"] = gt["region_area"]
    if classes is None:
        classes = sorted(set(numpy.concatenate([x["labels"] for x in dts + gts] or [[]]).astype(int).tolist()))
    areas = list(AREA_RANGES.values())
    precision = -numpy.ones((len(IOU_THRESHOLDS), len(RECALL_LEVELS), len(classes), len(areas), len(MAX_DETS)))
    recall = -numpy.ones((len(IOU_THRESHOLDS), len(classes), len(areas), len(MAX_DETS)))
    for k, label in enumerate(classes):
        per_image = [(_of_class(dt, label), _of_class(gt, label)) for dt, gt in zip(dts, gts)]
        for a, area_range in enumerate(areas):
            results = [_evaluate_image(dt, gt, area_range, MAX_DETS[-1]) for dt, gt in per_image]
            for m, max_det in enumerate(MAX_DETS):
                precision[:, :, k, a, m], recall[:, k, a, m] = _precision_recall(results, max_det)
    return CocoEvaluation(_coco_stats(precision, recall), precision, recall, list(classes))


def _of_class(image, label):
    chosen = image["labels"] == label
    return {name: None if values is None else values[chosen] for name, values in image.items()}


def _coco_stats(precision, recall):
    """COCOeval.summarize's 12 numbers: means over the entries > -1."""
    area_index = {name: i for i, name in enumerate(AREA_RANGES)}

    def mean(values):
        values = values[values > -1]
        return float(values.mean()) if values.size else -1.0

    def ap(threshold=None, area="all", max_det=100):
        values = precision if threshold is None else precision[numpy.where(threshold == IOU_THRESHOLDS)[0]]
        return mean(values[:, :, :, area_index[area], MAX_DETS.index(max_det)])

    def ar(area="all", max_det=100):
        return mean(recall[:, :, area_index[area], MAX_DETS.index(max_det)])

    return numpy.array([ap(), ap(0.5), ap(0.75), ap(area="small"), ap(area="medium"),
                        ap(area="large"), ar(max_det=1), ar(max_det=10), ar(), ar("small"),
                        ar("medium"), ar("large")])


def detected(detections, ground_truths, iou_threshold=0.5, min_score=0.0):
    """For each image, a bool per true box: found by a detection of its class scoring at
    least min_score with IoU >= iou_threshold, detections taken by descending score, each
    box found once (COCO's matching at one threshold, without crowd or area rules). Binned
    by a box's size or occlusion, it shows which objects a detector misses."""
    dts, gts = _check_lists("detected", detections, ground_truths)
    found = []
    for dt, gt in zip(dts, gts):
        image_found = numpy.zeros(len(gt["boxes"]), bool)
        confident = dt["scores"] >= min_score
        for label in numpy.unique(gt["labels"]):
            boxes = numpy.flatnonzero(gt["labels"] == label)
            mine = numpy.flatnonzero(confident & (dt["labels"] == label))
            mine = mine[numpy.argsort(-dt["scores"][mine], kind="stable")]
            iou = _coco_iou(dt["boxes"][mine], gt["boxes"][boxes], numpy.zeros(len(boxes), bool))
            matched = _match(iou, numpy.zeros(len(boxes), bool), numpy.zeros(len(boxes), bool),
                             numpy.array([iou_threshold]))[0]
            image_found[boxes[matched[matched >= 0]]] = True
        found.append(image_found)
    return found


# --- PASCAL VOC ------------------------------------------------------------------------------

def voc_ap(recall, precision, use_07_metric=False):
    """AP from a precision-recall curve (points in detection order): the 11-point mean
    (VOC 2007) or the area under the precision envelope (VOC 2010 on)."""
    recall, precision = numpy.asarray(recall, float), numpy.asarray(precision, float)
    if use_07_metric:
        return float(numpy.mean([precision[recall >= t].max() if (recall >= t).any() else 0.0
                                 for t in numpy.linspace(0, 1, 11)]))
    recall = numpy.concatenate([[0.0], recall, [1.0]])
    envelope = numpy.maximum.accumulate(numpy.concatenate([[0.0], precision, [0.0]])[::-1])[::-1]
    steps = numpy.flatnonzero(recall[1:] != recall[:-1])
    return float(numpy.sum((recall[steps + 1] - recall[steps]) * envelope[steps + 1]))


def voc_precision_recall(detections, ground_truths, label, iou_threshold=0.5):
    """(recall, precision, scores) of one class after each detection, by descending score."""
    dts, gts = _check_lists("voc_precision_recall", detections, ground_truths)
    return _voc_curve(dts, gts, label, iou_threshold)


def _voc_curve(dts, gts, label, iou_threshold):
    found = [(score, i, box) for i, dt in enumerate(dts)
             for score, box, l in zip(dt["scores"], dt["boxes"], dt["labels"]) if l == label]
    found.sort(key=lambda item: -item[0])          # stable: ties in image, then input order
    wanted = [(g["labels"] == label) for g in gts]
    positives = sum(int((w & ~g["difficult"]).sum()) for w, g in zip(wanted, gts))
    taken = [numpy.zeros(int(w.sum()), bool) for w in wanted]
    true_positive = numpy.zeros(len(found))
    false_positive = numpy.zeros(len(found))
    for d, (_, i, box) in enumerate(found):
        boxes = gts[i]["boxes"][wanted[i]]
        difficult = gts[i]["difficult"][wanted[i]]
        overlap = _coco_iou(box[None], boxes, numpy.zeros(len(boxes), bool))[0]
        best = int(overlap.argmax()) if len(boxes) else -1
        if best >= 0 and overlap[best] > iou_threshold:
            if difficult[best]:
                continue
            if not taken[i][best]:
                taken[i][best] = True
                true_positive[d] = 1
                continue
        false_positive[d] = 1
    true_positive, false_positive = numpy.cumsum(true_positive), numpy.cumsum(false_positive)
    recall = true_positive / max(positives, 1) if positives else numpy.zeros_like(true_positive)
    precision = true_positive / numpy.maximum(true_positive + false_positive, numpy.finfo(float).eps)
    return recall, precision, numpy.array([item[0] for item in found]), positives


def voc_evaluate(detections, ground_truths, iou_threshold=0.5, use_07_metric=False, classes=None):
    """{"ap": {label: AP}, "map": mean over classes with ground truth} (VOC, module docstring)."""
    dts, gts = _check_lists("voc_evaluate", detections, ground_truths)
    if classes is None:
        classes = sorted(set(numpy.concatenate([g["labels"] for g in gts] or [[]]).astype(int).tolist()))
    ap = {}
    for label in classes:
        recall, precision, _, positives = _voc_curve(dts, gts, label, iou_threshold)
        if positives:
            ap[int(label)] = voc_ap(recall, precision, use_07_metric)
    return {"ap": ap, "map": float(numpy.mean(list(ap.values()))) if ap else float("nan")}
