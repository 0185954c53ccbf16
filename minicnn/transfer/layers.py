"""Finding a model's layers by their dotted names ("layer2.0.conv1"), for the other modules."""


def layer_names(model):
    """The dotted names of the model's modules in the order they were registered, parents
    before their children (model.named_modules() without the model itself)."""
    return [name for name, _ in model.named_modules()][1:]


def layer(model, name, function):
    """The module `name` of `model`; an unknown name is refused with the valid ones."""
    names = layer_names(model)
    if name not in names:
        top = [name for name, _ in model.named_children()]
        part = next((name for name in names if "." in name), None)
        raise ValueError(f"{function}: {type(model).__name__} has no layer {name!r}; its layers "
                         f"are {', '.join(top)}" + (f" (and their parts, named like {part!r})"
                                                     if part else ""))
    return model.get_submodule(name)
