"""The GAN's networks: an autoregressive LSTM generator and a bidirectional LSTM discriminator."""

from core.models.config import ModelConfig
from core.models.discriminator import LSTMDiscriminator
from core.models.generator import GeneratorOutput, LSTMGenerator, mle_loss
from core.models.objectives import OBJECTIVES, discriminator_loss, generator_loss

__all__ = [
    "OBJECTIVES",
    "GeneratorOutput",
    "LSTMDiscriminator",
    "LSTMGenerator",
    "ModelConfig",
    "discriminator_loss",
    "generator_loss",
    "mle_loss",
]
