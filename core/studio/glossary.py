"""The words of the studio, explained for a class: one definition per term, with where it comes from.

The Glossary page shows them all (with a filter); other pages may link a term's definition.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A word or symbol, its definition in plain language, and a source to read more."""

    name: str
    definition: str
    source: str = ""


TERMS: tuple[Term, ...] = (
    Term(
        "GAN (generative adversarial network)",
        "Two neural networks trained against each other: a generator that makes new examples and a "
        "discriminator that tries to tell them from real ones. Each improves by beating the other, until "
        "(ideally) the generator's examples cannot be told from real ones.",
        "Goodfellow et al., Generative Adversarial Nets, NeurIPS 2014.",
    ),
    Term(
        "Generator (G)",
        "The network that writes music. It starts from random numbers (z) and turns them into a piano-roll, "
        "one sixteenth-note step after another. Here it is an LSTM.",
    ),
    Term(
        "Discriminator (D)",
        "The network that judges. Given a piano-roll it outputs a probability that the piece is real (from "
        "the corpus) rather than written by the generator. Here it is an LSTM that reads the piece both "
        "forwards and backwards.",
    ),
    Term(
        "D(x)",
        "The discriminator's answer for a real piece x: the probability it gives that x is real. Near 1: "
        "it recognises real music; near 0.5: it is unsure.",
    ),
    Term(
        "D(G(z))",
        "The discriminator's answer for a generated piece G(z): the probability it gives that the piece is "
        "real. Near 0: the generator is easily caught; near 0.5: the discriminator cannot tell.",
    ),
    Term(
        "z and p_z (noise)",
        "z is a handful of random numbers, drawn from a simple distribution p_z (here a normal "
        "distribution). Different z give different pieces; the seed fixes which z are drawn.",
    ),
    Term(
        "E (expectation)",
        "In the GAN objective, E means 'on average over': E over x ~ p_data is the average over real pieces, "
        "E over z ~ p_z the average over random noise.",
    ),
    Term(
        "Non-saturating loss",
        "The generator's loss used in practice: instead of minimising log(1 − D(G(z))) it maximises "
        "log D(G(z)), which gives it useful gradients early on, when the discriminator wins easily. The "
        "shipped model was trained with it.",
        "Goodfellow et al. 2014, section 3.",
    ),
    Term(
        "Pretraining (maximum likelihood, imitation)",
        "Before the adversarial game, the generator learns by imitation: shown real pieces step by step, it "
        "is scored on how likely it finds each next step. Its loss is measured in nats (natural-log units).",
    ),
    Term(
        "Piano-roll",
        "A picture of music: time runs left to right in sixteenth notes, pitch runs bottom to top, and a "
        "cell is filled while that note sounds. The GAN reads and writes music in this form.",
    ),
    Term(
        "LSTM (long short-term memory)",
        "A recurrent neural network that reads a sequence one step at a time and keeps a memory of what came "
        "before, so it can write music that follows on from itself.",
        "Hochreiter & Schmidhuber, Neural Computation 1997.",
    ),
    Term(
        "SVM (support vector machine)",
        "A classic classifier. Here it is trained on simple musical features (which pitches, how many notes "
        "at once, how long notes are, how voices move) to separate real chorale windows from generated "
        "ones. The studio uses it to rank the generator's candidates and keep the best.",
        "Cortes & Vapnik, Machine Learning 1995.",
    ),
    Term(
        "SVM score and chorale-likeness grade",
        "The SVM's score for a piece is how far it lies on the 'real' side of the line the SVM drew between "
        "real and generated music: higher looks more like the chorales. To make it readable it is turned "
        "into a grade from 0 to 100: where the piece's score stands among real chorale windows the SVM "
        "never trained on. A grade of 60 means the piece scores at least as high as 60 % of real windows.",
    ),
    Term(
        "Two-sample test (classifier two-sample test)",
        "A way to ask 'are these two collections from the same source?': train a classifier to tell real "
        "pieces from generated ones and test it on pieces it has not seen. An accuracy near 0.5 (a coin "
        "toss) means it cannot tell them apart; near 1 means they are easy to tell apart.",
        "Lopez-Paz & Oquab, Revisiting Classifier Two-Sample Tests, ICLR 2017.",
    ),
    Term(
        "Temperature",
        "How adventurous sampling is. At 1 the generator picks notes with the probabilities it learned; "
        "below 1 it favours its most likely choices (safer, more repetitive); above 1 it spreads its choices "
        "out (wilder, more surprising).",
    ),
    Term(
        "Seed",
        "The number that fixes the random choices. The same model, seed and settings always give the same "
        "pieces, which is why a link to a result reproduces it.",
    ),
    Term(
        "Candidates and pieces kept",
        "The generator writes several candidate pieces; the SVM ranks them and the studio keeps the best few "
        "to show and play.",
    ),
    Term(
        "Mode collapse",
        "A GAN failure where the generator finds a few pieces that fool the discriminator and writes only "
        "those, whatever the noise z.",
    ),
)


def matching(query: str) -> list[Term]:
    """The terms whose name or definition contains every word of ``query`` (case-insensitive)."""
    words = query.lower().split()
    return [term for term in TERMS if all(w in f"{term.name} {term.definition}".lower() for w in words)]
