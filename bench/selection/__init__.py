"""The NLU pipeline selection experiment behind docs/nlu_model_selection.md (not part of `make bench`).

    measure         one config: timed training, held-out test, parse latency, 5-fold CV, summary.json
    cv              `rasa <args>` with seeded NumPy, so every config gets the same CV folds
    compare         table of the measured configs with a paired bootstrap of held-out macro-F1
    latency_paired  parse latency of several models, interleaved in one process
    fallback        FallbackClassifier threshold sweep on recorded parses
    turn_latency    whole-turn latency (NLU + policies) of a full model, in-process

Each is run as `python -m bench.selection.<name>`; the exact commands are in docs/nlu_model_selection.md.
"""
