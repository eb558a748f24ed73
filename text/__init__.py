"""Plain-text helpers every layer may import (``pushkin.text``): it imports none of our other packages.

:mod:`.units` owns what a word, a sentence and a paragraph are (English and Russian alike); :mod:`.bpe`
trains the throwaway byte-level tokenizers the tiny test models use.
"""
