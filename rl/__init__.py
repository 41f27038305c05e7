"""adactx.rl: the environment, rewards, oracle and evaluation of context policies.

The top-level folder ``rl/`` is installed as the package ``adactx.rl`` (pyproject's package-dir mapping),
so ``rl/evaluate.py`` is ``adactx.rl.evaluate``; import it by that name, never as ``rl``.

    settings.py       EpisodeSettings: the controller + document settings with the RL defaults (one place)
    env.py            ContextEnv (Gymnasium) over the controller's state and actions; EnvConfig
    rewards.py        score − λ·cost and its variants
    memo.py           reader outcomes memoized on disk (MemoReader)
    oracle.py         the hindsight oracle's action tree, cross-fitting
    sensitivity.py    reader-sensitivity conditions (no context, gold evidence, ...)
    stats.py          bootstrap CIs, paired differences
    evaluate.py       the evaluation's orchestration (run_eval); its other jobs: eval_config.py,
                      eval_examples.py, eval_features.py, run_dir.py, eval_tables.py, eval_report.py, plots.py

Imports adactx core, adactx.retrieval and adactx.graphs; heavy libraries load on first use.
"""
