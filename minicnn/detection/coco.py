"""COCO-style annotations: read and write the JSON format, so a small real set can be used.

A COCO file is one JSON object:

    images       [{"id", "file_name", "width", "height"}, ...]
    annotations  [{"id", "image_id", "category_id", "bbox": [x, y, width, height],
                   "area", "iscrowd": 0 or 1, optional "segmentation"}, ...]
    categories   [{"id", "name"}, ...]

Boxes are (x, y, width, height) in pixels there, xyxy here; class indices here are the
categories in the order of their ids (0 for the smallest id). Masks are written as
uncompressed run-length encodings, {"counts": [...], "size": [height, width]}, the runs of
0s and 1s alternating, starting with 0s, over the pixels in column-major order (COCO's
convention); read back from that form or from polygons ([[x0, y0, x1, y1, ...], ...],
filled with PIL, which can differ from pycocotools' rasterisation by a pixel at the edge).
Compressed RLE (a string of counts) needs pycocotools' decoder and is refused, by name.

save_coco writes atomically (a temporary file renamed over the target); load_coco checks
the structure and names the annotation at fault.
"""
import json
import os

import numpy

from ..serialization import write_atomically
from .boxes import as_numpy

__all__ = ["CocoDetection", "coco_results", "decode_rle", "encode_rle", "load_coco", "save_coco"]


def encode_rle(mask):
    """Uncompressed COCO RLE of a (H, W) 0/1 mask."""
    flat = numpy.asarray(mask, bool).ravel(order="F")
    changes = numpy.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = numpy.concatenate([[0], changes, [flat.size]])
    counts = numpy.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0] + counts                      # runs start with 0s
    return {"counts": counts, "size": list(numpy.shape(mask))}


def decode_rle(rle):
    """The (H, W) uint8 mask of an uncompressed COCO RLE."""
    height, width = rle["size"]
    counts = rle["counts"]
    if isinstance(counts, str):
        raise ValueError("decode_rle: compressed RLE (a string of counts) needs pycocotools; "
                         "only the uncompressed form (a list of run lengths) is read here")
    values = numpy.arange(len(counts)) % 2
    flat = numpy.repeat(values, counts).astype(numpy.uint8)
    if flat.size != height * width:
        raise ValueError(f"decode_rle: the runs cover {flat.size} pixels, the size "
                         f"{height} x {width} has {height * width}")
    return flat.reshape((height, width), order="F")


def _polygon_mask(polygons, height, width):
    from PIL import Image, ImageDraw
    canvas = Image.new("L", (width, height), 0)
    for polygon in polygons:
        ImageDraw.Draw(canvas).polygon([float(v) for v in polygon], outline=1, fill=1)
    return numpy.asarray(canvas, numpy.uint8)


def save_coco(path, targets, class_names, image_sizes, file_names=None):
    """Write ground truth to a COCO JSON file. targets: one dict per image with boxes (K, 4)
    xyxy, labels (K,), optional masks (K, H, W) and iscrowd (K,); image_sizes: (height,
    width) per image."""
    if len(targets) != len(image_sizes):
        raise ValueError(f"save_coco: targets and image_sizes need one entry per image, got "
                         f"{len(targets)} and {len(image_sizes)}")
    images, annotations = [], []
    for i, (target, (height, width)) in enumerate(zip(targets, image_sizes)):
        images.append({"id": i + 1, "file_name": file_names[i] if file_names else f"{i:06d}.png",
                       "width": int(width), "height": int(height)})
        boxes = as_numpy(target["boxes"]).astype(float).reshape(-1, 4)
        labels = as_numpy(target["labels"]).astype(int).reshape(-1)
        if len(labels) != len(boxes):
            raise ValueError(f"save_coco: image {i} has {len(boxes)} boxes but {len(labels)} labels")
        masks = target.get("masks")
        crowd = target.get("iscrowd", numpy.zeros(len(boxes), bool))
        for k, (box, label) in enumerate(zip(boxes, labels)):
            if not 0 <= label < len(class_names):
                raise ValueError(f"save_coco: image {i} box {k} has label {label}, outside "
                                 f"0..{len(class_names) - 1}")
            annotation = {"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label) + 1,
                          "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]),
                                   float(box[3] - box[1])],
                          "area": float((box[2] - box[0]) * (box[3] - box[1])),
                          "iscrowd": int(bool(crowd[k]))}
            if masks is not None:
                mask = as_numpy(masks[k])
                annotation["segmentation"] = encode_rle(mask)
                annotation["area"] = float(mask.astype(bool).sum())
            annotations.append(annotation)
    document = {"images": images, "annotations": annotations,
                "categories": [{"id": k + 1, "name": name} for k, name in enumerate(class_names)]}
    text = json.dumps(document).encode("utf-8")
    write_atomically(path, lambda file: file.write(text))


def load_coco(path, masks=False):
    """(images, targets, class_names) from a COCO JSON file: images as in the file, targets
    one dict per image (boxes float32 xyxy, labels int64, iscrowd bool, area float32, and
    masks uint8 (K, H, W) if asked for)."""
    with open(path) as file:
        try:
            document = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"load_coco: {path} is not JSON: {error}") from None
    for key in ("images", "annotations", "categories"):
        if not isinstance(document.get(key), list):
            raise ValueError(f"load_coco: {path} has no list {key!r} (a COCO file has images, "
                             "annotations and categories)")
    categories = sorted(document["categories"], key=lambda c: c["id"])
    index_of = {c["id"]: k for k, c in enumerate(categories)}
    images = document["images"]
    position = {image["id"]: i for i, image in enumerate(images)}
    found = [[] for _ in images]
    for n, annotation in enumerate(document["annotations"]):
        where = f"load_coco: {path} annotation {n} (id {annotation.get('id')})"
        if annotation.get("image_id") not in position:
            raise ValueError(f"{where} refers to image {annotation.get('image_id')!r}, which is not in 'images'")
        if annotation.get("category_id") not in index_of:
            raise ValueError(f"{where} has category {annotation.get('category_id')!r}, which is not in 'categories'")
        box = annotation.get("bbox")
        if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
                and box[2] >= 0 and box[3] >= 0):
            raise ValueError(f"{where} has bbox {box!r}; expected [x, y, width, height] with "
                             "width and height >= 0")
        found[position[annotation["image_id"]]].append(annotation)
    targets = [_target(annotations, image, index_of, masks) for annotations, image in zip(found, images)]
    return images, targets, [c.get("name", str(c["id"])) for c in categories]


def _target(annotations, image, index_of, with_masks):
    boxes = numpy.array([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2],
                          a["bbox"][1] + a["bbox"][3]] for a in annotations], numpy.float32).reshape(-1, 4)
    target = {"boxes": boxes,
              "labels": numpy.array([index_of[a["category_id"]] for a in annotations], numpy.int64),
              "iscrowd": numpy.array([bool(a.get("iscrowd", 0)) for a in annotations], bool),
              "area": numpy.array([a.get("area", (b[2] - b[0]) * (b[3] - b[1]))
                                   for a, b in zip(annotations, boxes)], numpy.float32)}
    if with_masks:
        height, width = image["height"], image["width"]
        target["masks"] = numpy.array([decode_rle(a["segmentation"]) if isinstance(a.get("segmentation"), dict)
                                       else _polygon_mask(a.get("segmentation", []), height, width)
                                       for a in annotations], numpy.uint8).reshape(-1, height, width)
    return target


def coco_results(detections, image_ids=None):
    """Detections (postprocess.py's format, one dict per image) as COCO's result list:
    [{"image_id", "category_id", "bbox": [x, y, w, h], "score"}], ids as save_coco numbers them."""
    results = []
    for i, found in enumerate(detections):
        image_id = image_ids[i] if image_ids is not None else i + 1
        for box, score, label in zip(found["boxes"], found["scores"], found["labels"]):
            results.append({"image_id": image_id, "category_id": int(label) + 1, "score": float(score),
                            "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])]})
    return results


class CocoDetection:
    """A detection dataset from a folder of images and a COCO JSON file: samples (image float32
    (3, H, W) in [0, 1], target dict), as ScenesDataset's. With image_size, every image is
    resized to image_size x image_size (boxes scaled with it) so that batches stack."""

    def __init__(self, image_folder, annotation_file, image_size=None, transform=None):
        self.folder, self.image_size, self.transform = image_folder, image_size, transform
        self.images, self.targets, self.classes = load_coco(annotation_file)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        from PIL import Image
        info = self.images[index]
        path = os.path.join(self.folder, info["file_name"])
        try:
            picture = Image.open(path).convert("RGB")
        except OSError as error:
            raise ValueError(f"CocoDetection: cannot read image {path}: {error}") from None
        target = dict(self.targets[index])
        if self.image_size:
            scale = numpy.array([self.image_size / picture.width, self.image_size / picture.height] * 2,
                                numpy.float32)
            picture = picture.resize((self.image_size, self.image_size), Image.BILINEAR)
            target["boxes"] = target["boxes"] * scale
        image = numpy.asarray(picture, numpy.float32).transpose(2, 0, 1) / 255
        return self.transform(image, target) if self.transform is not None else (image, target)
