"""The networks of every model family (one module each: config, networks, sampling), the GAN objectives,
and checkpoint files.

- :mod:`core.models.lstm_gan`: the LSTM-vs-LSTM GAN (this project);
- :mod:`core.models.lstm_lm`: the next-step LSTM (Huang & Wu 2016);
- :mod:`core.models.cnn_gan`: the MidiNet-style convolutional GAN (Yang et al. 2017).

Training lives in :mod:`core.training`; the family registry in :mod:`core.families`.
"""
