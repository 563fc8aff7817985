"""GAN Music Studio core library: MIDI I/O, piano-rolls, datasets, models, training, ranking, audio.

Nothing in this package imports Streamlit; the pages in ``pages/`` call into it.
"""
