# TorchScript functions (the YAML example loads this file as the script "pre").
def negate(x):
    return torch.neg(x)  # noqa: F821  (TorchScript provides torch)


def timestwo(x):
    return 2 * x
