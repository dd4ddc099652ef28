"""Constants of the forecast, measured on real fits: written by
`python benchmarks/calibrate_estimate.py --seeds 1,2,3,4,5 --write` on 2026-11-29.

Source: 110 fits (`kiss-automl fit`, default options) of the suite's 22 datasets, the training split at seeds 1,2,3,4,5
(benchmarks/estimate_accuracy.py --fits-only), on the reference machine: a 2-core x86 VM, CPU-time meter at 4 W
per core. 175 tuned, 190 promoted candidates and 110 refits are behind their ratios. Seed 0, which
benchmarks/estimate_accuracy.py evaluates the estimate on (benchmarks/ESTIMATE.md), is kept out.

Every tuple is (low, central, high): the 20%, 50% and 80% percentiles of the measured ratio
(for a least-squares fit: its coefficients times those percentiles of measured / fitted). CPU-seconds
are of one core, at the reference machine's speed.
"""

# measured / cost-model CPU-s of each probe (start configuration), per evaluation mode and family (mlp, never probed: its tuned candidates; fewer than 3 in a mode: both modes pooled)
FAMILY_FACTOR = {'cv': {'baseline': (0.3907, 0.6785, 1.2025), 'linear': (0.6119, 0.8596, 1.2766), 'random_forest': (0.4432, 0.633, 1.0023), 'extra_trees': (0.5792, 0.7043, 1.0482), 'lightgbm': (0.5557, 0.6937, 0.9086), 'xgboost': (0.7953, 1.239, 1.5372), 'mlp': (0.9635, 1.1156, 1.5496)}, 'holdout': {'baseline': (0.2197, 0.2834, 0.4168), 'linear': (0.2487, 0.4203, 0.5979), 'random_forest': (0.4845, 0.7709, 1.794), 'extra_trees': (0.8568, 0.9494, 1.7525), 'lightgbm': (0.3258, 0.4865, 0.6577), 'xgboost': (0.3971, 0.5655, 0.7486), 'mlp': (1.3648, 1.4903, 1.822)}}
# candidates after those that always run (the probes up to the last always_probe family's), per regime (forecast.regime): the other probes, then the tuning
EXTRA_CANDIDATES = {'small': (0.0, 0.0, 0.0), 'cv': (0.0, 3.0, 5.0), 'holdout': (2.0, 4.0, 6.0)}
# which families the tuned candidates went to
TUNED_SHARE = {'extra_trees': 0.16, 'lightgbm': 0.606, 'mlp': 0.08, 'xgboost': 0.154}
# a tuned candidate's measured CPU-s over its family's mean (corrected) probe forecast
TUNED_COST = (0.6655, 1.8142, 4.6549)
# which families the promoted candidates (holdout plans) belonged to
PROMOTED_SHARE = {'extra_trees': 0.016, 'lightgbm': 0.621, 'linear': 0.021, 'mlp': 0.005, 'random_forest': 0.037, 'xgboost': 0.3}
# boosting rounds of a promoted candidate grow as (rung rows / first rung rows) ** this: the exponent whose ratios spread least
PROMOTED_ROUNDS_EXPONENT = 0.25
# a promoted candidate's measured CPU-s over its family's mean (corrected) probe forecast at its rung
PROMOTED_COST = (1.1441, 2.5078, 5.5533)
# the refit's measured CPU-s over the mean start configuration on all rows: a blend (CV, best) or a single model
REFIT_COST = {'blend': (0.7331, 2.0095, 5.4387), 'single': (1.111, 2.6099, 4.9472)}
# run.json process_cpu_s_parts.startup_and_imports: the interpreter and the fit's imports
STARTUP_CPU_S = (1.2228, 1.2793, 1.3968)
# process_cpu_s_parts.read_and_check = a + b x number cells + c x text cells (least squares)
READ_CPU_S = (0.024251, 0.026808, 0.032874)
READ_CPU_S_PER_MCELL = (0.031289, 0.034588, 0.042415)
READ_CPU_S_PER_TEXT_MCELL = (0.129587, 0.143249, 0.175664)
# typing_j / W per core = b x number cells + c x text cells (least squares)
TYPING_CPU_S_PER_MCELL = (0.017934, 0.080541, 0.216275)
TYPING_CPU_S_PER_TEXT_MCELL = (0.271074, 1.217364, 3.268947)
# (search_j - candidates_j) / W per core = candidates x (a + b x rows) (least squares): optuna, bookkeeping, the meter
LOOP_CPU_S_PER_CANDIDATE = (0.00392, 0.004906, 0.005953)
LOOP_CPU_S_PER_CANDIDATE_MROW = (0.139468, 0.174522, 0.211769)
# the fit part's rest (process_cpu_s_parts.fit - typing - search - refit: the families' imports, target encoding, the blend's selection, the summary) = a + b x cells
OTHER_CPU_S = (0.183654, 0.190114, 0.200727)
OTHER_CPU_S_PER_MCELL = (0.023974, 0.024817, 0.026202)
# the fits' settings that decide how long tuning goes on
CALIBRATED_SETTINGS = {'tol': 0.002, 'patience': 1, 'family_patience': 3, 'noise_aware': True, 'decision_energy': 'estimated'}
# the fit command's wall time, measured outside its process, per CPU-second of process_j (median): saving the model folder and the interpreter's exit included
WALL_PER_CPU_S = 1.1947
# run.json time.search_s per CPU-second of search_j (median): the clock the time budget reads
SEARCH_WALL_PER_CPU_S = 1.0048
