"""Constants of the forecast, measured on real fits: written by
`python benchmarks/calibrate_estimate.py --seeds 1,2,3,4,5 --write` on 2026-11-29.

Source: 110 fits (`kiss-automl fit`, default options) of the suite's 22 datasets, the training split at seeds 1,2,3,4,5
(benchmarks/estimate_accuracy.py --fits-only), on the reference machine: a 2-core x86 VM, CPU-time meter at 4 W
per core. 175 tuned, 190 promoted candidates and 110 refits are behind their ratios (22 fits count saving the folder). Seed 0, which
benchmarks/estimate_accuracy.py evaluates the estimate on (benchmarks/ESTIMATE.md), is kept out.

Every tuple is (low, central, high): the 20%, 50% and 80% percentiles of the measured ratio
(for a least-squares fit: its coefficients times those percentiles of measured / fitted). CPU-seconds
are of one core, at the reference machine's speed.
"""

# measured / cost-model CPU-s of each probe (start configuration), per evaluation mode and family (mlp, never probed: its tuned candidates; fewer than 3 in a mode: both modes pooled)
FAMILY_FACTOR = {'cv': {'baseline': (0.3907, 0.6818, 1.1771), 'linear': (0.6092, 0.8298, 1.272), 'random_forest': (0.4442, 0.6229, 0.9983), 'extra_trees': (0.5824, 0.7043, 1.0008), 'lightgbm': (0.5541, 0.6937, 0.8943), 'xgboost': (0.7953, 1.2353, 1.5219), 'mlp': (0.9635, 1.1156, 1.5496)}, 'holdout': {'baseline': (0.2197, 0.2834, 0.4399), 'linear': (0.2487, 0.4203, 0.6087), 'random_forest': (0.4845, 0.7709, 1.7765), 'extra_trees': (0.8568, 0.9596, 1.7466), 'lightgbm': (0.3271, 0.489, 0.6577), 'xgboost': (0.3971, 0.5649, 0.7486), 'mlp': (1.3693, 1.4903, 1.822)}}
# candidates after those that always run (the probes up to the last always_probe family's), per regime (forecast.regime): the other probes, then the tuning
EXTRA_CANDIDATES = {'small': (0.0, 0.0, 0.0), 'cv': (0.0, 3.0, 5.0), 'holdout': (2.0, 4.0, 6.0)}
# which families the tuned candidates went to
TUNED_SHARE = {'extra_trees': 0.16, 'lightgbm': 0.606, 'mlp': 0.08, 'xgboost': 0.154}
# a tuned candidate's measured CPU-s over its family's mean (corrected) probe forecast
TUNED_COST = (0.6621, 1.8331, 4.6174)
# which families the promoted candidates (holdout plans) belonged to
PROMOTED_SHARE = {'extra_trees': 0.016, 'lightgbm': 0.621, 'linear': 0.021, 'mlp': 0.005, 'random_forest': 0.037, 'xgboost': 0.3}
# boosting rounds of a promoted candidate grow as (rung rows / first rung rows) ** this: the exponent whose ratios spread least
PROMOTED_ROUNDS_EXPONENT = 0.25
# a promoted candidate's measured CPU-s over its family's mean (corrected) probe forecast at its rung
PROMOTED_COST = (1.129, 2.5562, 5.5224)
# the refit's measured CPU-s over the mean start configuration on all rows: a blend (CV, best) or a single model
REFIT_COST = {'blend': (0.7195, 2.0302, 5.485), 'single': (1.0134, 2.523, 4.8212)}
# run.json process_cpu_s_parts.startup_and_imports: the interpreter and the fit's imports
STARTUP_CPU_S = (1.2237, 1.2877, 1.3702)
# process_cpu_s_parts.read_and_check = a + b x number cells + c x text cells (least squares)
READ_CPU_S = (0.024277, 0.026941, 0.031878)
READ_CPU_S_PER_MCELL = (0.030718, 0.034088, 0.040334)
READ_CPU_S_PER_TEXT_MCELL = (0.130255, 0.144545, 0.171035)
# typing_j / W per core = b x number cells + c x text cells (least squares)
TYPING_CPU_S_PER_MCELL = (0.018047, 0.079924, 0.209593)
TYPING_CPU_S_PER_TEXT_MCELL = (0.276873, 1.226163, 3.215489)
# (search_j - candidates_j) / W per core = candidates x (a + b x rows) (least squares): optuna, bookkeeping, the meter
LOOP_CPU_S_PER_CANDIDATE = (0.003902, 0.004897, 0.005944)
LOOP_CPU_S_PER_CANDIDATE_MROW = (0.140627, 0.176508, 0.214224)
# the fit part's rest (process_cpu_s_parts.fit - typing - search - refit: the families' imports, target encoding, the blend's selection, the summary) = a + b x cells
OTHER_CPU_S = (0.183405, 0.189494, 0.199216)
OTHER_CPU_S_PER_MCELL = (0.024815, 0.025639, 0.026955)
# process_cpu_s_parts.save = a + b x rows (least squares): writing the model folder (skops), from the fits whose run.json counts it
SAVE_CPU_S = (0.384889, 0.442336, 0.478511)
SAVE_CPU_S_PER_MROW = (1.594907, 1.832955, 1.982857)
# the fits' settings that decide how long tuning goes on
CALIBRATED_SETTINGS = {'tol': 0.002, 'patience': 1, 'family_patience': 3, 'noise_aware': True, 'decision_energy': 'estimated'}
# the fit command's wall time, measured outside its process, per CPU-second of process_j (median): saving the model folder and the interpreter's exit included
WALL_PER_CPU_S = 1.1517
# run.json time.search_s per CPU-second of search_j (median): the clock the time budget reads
SEARCH_WALL_PER_CPU_S = 1.0041
