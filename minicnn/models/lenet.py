"""LeNet-5 (LeCun et al. 1998), the first convolutional network, in its modern form."""
from .. import nn


class LeNet5(nn.Module):
    """conv5x5(6) -> pool -> conv5x5(16) -> pool -> fc120 -> fc84 -> fc(num_classes).

    Input (N, in_channels, 28, 28), output (N, num_classes) logits. The original was
    designed for 32x32 images; padding 2 on the first convolution lets 28x28 MNIST digits
    keep the classic shapes: 28 -> conv 28 -> pool 14 -> conv 10 -> pool 5, so 16*5*5 = 400
    features reach the classifier. Two modern choices replace the 1998 ones: ReLU instead of
    scaled tanh, and max-pooling instead of trainable average subsampling; both train
    faster and reach the same accuracy. The C3 layer is fully connected to S2 (the original
    used a sparse connection table).

    Parameters: 61,706 (in_channels=1, num_classes=10):
    conv1 156, conv2 2,416, fc1 48,120, fc2 10,164, fc3 850.
    """

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))
