"""Pretrained weights that minicnn trained itself and ships inside the package.

Each set of weights is a .safetensors file in minicnn/models/weights/ with a JSON card beside
it that says how it was made: the exact `minicnn train` command, the data, the seed, the code
version, the test accuracy and the file's sha256. Loading follows torchvision:

    resnet_tiny(weights="mnist5k-0to4")            a ResNet-8 that reads MNIST digits 0-4
    get_model("resnet_tiny", weights="shapes")     the same architecture, trained on shapes
    available()                                    {"resnet_tiny": ["mnist5k-0to4", "shapes"]}

The weights fix the options the architecture was trained with (in_channels, num_classes);
giving another value is an error, as in torchvision; minicnn.transfer.replace_head gives a
model a new head for another number of classes. The file's sha256 is checked against the
card before it is read, so a damaged or changed file is refused. scripts/pretrain_backbones.py
retrains every set from its card's command and checks that the same bytes come out.
"""
import json
import os

from ..serialization import load

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def cards():
    """{(model name, weights name): card} for every card in WEIGHTS_DIR."""
    found = {}
    for file_name in sorted(os.listdir(WEIGHTS_DIR)):
        if file_name.endswith(".json"):
            with open(os.path.join(WEIGHTS_DIR, file_name)) as f:
                card = json.load(f)
            found[card["model"], card["weights"]] = card
    return found


def available():
    """{model name: [weights names]} of the weights that ship with minicnn."""
    names = {}
    for model_name, weights in cards():
        names.setdefault(model_name, []).append(weights)
    return names


def card(model_name, weights):
    """The card of `model_name`'s weights `weights`; an unknown name lists the known ones."""
    known = cards()
    if (model_name, weights) not in known:
        listing = "; ".join(f"{model}: {', '.join(names)}" for model, names in available().items())
        raise ValueError(f"{model_name}: unknown weights {weights!r}; the weights that ship "
                         f"with minicnn are {listing or 'none'}")
    return known[model_name, weights]


def pretrained_state(model_name, weights):
    """The state_dict of the weights, read from a file whose sha256 matches its card."""
    description = card(model_name, weights)
    path = os.path.join(WEIGHTS_DIR, description["file"])
    try:
        return load(path, sha256=description["sha256"])
    except ValueError as error:
        raise ValueError(f"{model_name}: weights {weights!r}: {error}") from None


def with_weights(model_name, weights, build, options):
    """build(**options), with the pretrained `weights` loaded when they are not None."""
    if weights is None:
        return build(**options)
    fixed = card(model_name, weights)["model_options"]
    for key, value in options.items():
        if key in fixed and value != fixed[key]:
            raise ValueError(f"{model_name}: weights {weights!r} were trained with {key}="
                             f"{fixed[key]!r}, got {key}={value!r}; leave {key} out (for another "
                             "number of classes, replace the head: minicnn.transfer.replace_head)")
    state = pretrained_state(model_name, weights)       # checked before a model is built
    model = build(**{**options, **fixed})
    model.load_state_dict(state)
    return model
