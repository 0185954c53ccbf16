"""minicnn.training: the training loop, metrics, checkpoints and plots (the CLI is minicnn.cli)."""
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import (accuracy, confusion_matrix, dice_score, format_confusion_matrix, iou_score,
                      pixel_accuracy, scores_from_confusion)
from .plots import save_curves
from .trainer import Trainer, TrainingDiverged, fit
