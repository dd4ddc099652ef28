"""Constants of the forecast, measured on real fits: written by
`python benchmarks/calibrate_estimate.py --seeds 1,2,3 --write` on 2026-11-30.

Source: 66 fits (`kiss-automl fit`, default options) of the suite's 22 datasets, the training split at seeds 1,2,3
(benchmarks/estimate_accuracy.py --fits-only), on the reference machine: a 2-core x86 VM, CPU-time meter at 4 W
per core. 78 tuned, 114 promoted, 18 grown candidates and 53 refits are behind their ratios (66 fits count saving the folder). Seed 0, which
benchmarks/estimate_accuracy.py evaluates the estimate on (benchmarks/ESTIMATE.md), is kept out.

Every tuple is (low, central, high): the 20%, 50% and 80% percentiles of the measured ratio
(for a least-squares fit: its coefficients times those percentiles of measured / fitted). CPU-seconds
are of one core, at the reference machine's speed.
"""

# measured / cost-model CPU-s of each probe (start configuration), per evaluation mode and family (mlp, never probed: its tuned candidates; fewer than 3 in a mode: both modes pooled)
FAMILY_FACTOR = {'cv': {'baseline': (0.4498, 0.7589, 1.3839), 'linear': (0.7244, 1.0164, 1.5085), 'random_forest': (0.4966, 0.6634, 1.0545), 'extra_trees': (0.6283, 0.7747, 1.1092), 'lightgbm': (0.635, 0.7955, 1.0655), 'xgboost': (0.7283, 1.3214, 1.6739), 'mlp': (1.3282, 1.5057, 2.3382)}, 'holdout': {'baseline': (0.2433, 0.2832, 0.521), 'linear': (0.3355, 0.5063, 0.6846), 'random_forest': (0.5916, 0.8347, 1.9083), 'extra_trees': (0.9704, 1.0791, 1.8633), 'lightgbm': (0.3947, 0.5217, 0.6926), 'xgboost': (0.4633, 0.6404, 0.8844), 'mlp': (1.3282, 1.5057, 2.3382)}}
# candidates after those that always run (the probes up to the last always_probe family's), per regime (forecast.regime): the other probes, then the tuning
EXTRA_CANDIDATES = {'small': (0.0, 0.0, 0.0), 'cv': (0.0, 3.0, 5.0), 'holdout': (3.0, 4.0, 5.0)}
# which families the tuned candidates went to
TUNED_SHARE = {'extra_trees': 0.179, 'lightgbm': 0.513, 'linear': 0.026, 'mlp': 0.038, 'xgboost': 0.244}
# a tuned candidate's measured CPU-s over its family's mean (corrected) probe forecast
TUNED_COST = (0.9971, 2.281, 4.3856)
# which families the promoted candidates (holdout plans) belonged to
PROMOTED_SHARE = {'extra_trees': 0.018, 'lightgbm': 0.561, 'linear': 0.035, 'random_forest': 0.044, 'xgboost': 0.342}
# boosting rounds of a promoted candidate grow as (rung rows / first rung rows) ** this: the exponent whose ratios spread least
PROMOTED_ROUNDS_EXPONENT = 0.25
# a promoted candidate's measured CPU-s over its family's mean (corrected) probe forecast at its rung
PROMOTED_COST = (1.2014, 2.5502, 6.203)
# capacity steps on all the rows (search._grow) per fit with more than one rung
GROWN_STEPS = (0.0, 1.0, 1.0)
# which families the capacity steps belonged to
GROWN_SHARE = {'lightgbm': 0.889, 'xgboost': 0.111}
# how much dearer each capacity step is than the one before: the factor whose ratios spread least
GROWN_STEP_FACTOR = 3.0
# the k-th capacity step's measured CPU-s over its family's promoted forecast at the top rung times GROWN_STEP_FACTOR ** k
GROWN_COST = (1.6731, 2.3882, 4.1591)
# the share of fits with more than one rung that took a capacity step (their rows had paid): the chance taken that a lone promotion goes on (no suite file has rungs enough to measure it)
LONE_PAID = 0.619
# the refit's measured CPU-s over the mean start configuration on all rows: a blend (CV, best) or a single model (fits without capacity steps)
REFIT_COST = {'blend': (0.5432, 2.0874, 6.2516), 'single': (0.789, 1.0108, 4.9069)}
# after capacity steps, the refit's measured CPU-s over the last step's
GROWN_REFIT = (0.4704, 0.7196, 0.9065)
# run.json process_cpu_s_parts.startup_and_imports: the interpreter and the fit's imports
STARTUP_CPU_S = (1.5838, 1.6408, 1.7894)
# process_cpu_s_parts.read_and_check = a + b x number cells + c x text cells (least squares)
READ_CPU_S = (0.030456, 0.0349, 0.041519)
READ_CPU_S_PER_MCELL = (0.033426, 0.038303, 0.045569)
READ_CPU_S_PER_TEXT_MCELL = (0.137186, 0.157204, 0.187021)
# typing_j / W per core = b x number cells + c x text cells (least squares)
TYPING_CPU_S_PER_MCELL = (0.021133, 0.087547, 0.341232)
TYPING_CPU_S_PER_TEXT_MCELL = (0.711525, 2.947644, 11.489035)
# (search_j - candidates_j) / W per core = candidates x (a + b x rows) (least squares): optuna, bookkeeping, the meter
LOOP_CPU_S_PER_CANDIDATE = (0.00469, 0.006414, 0.007083)
LOOP_CPU_S_PER_CANDIDATE_MROW = (0.252395, 0.345187, 0.3812)
# the fit part's rest (process_cpu_s_parts.fit - typing - search - refit: the families' imports, target encoding, the blend's selection, the summary) = a + b x cells
OTHER_CPU_S = (0.190147, 0.23049, 0.243952)
OTHER_CPU_S_PER_MCELL = (0.018172, 0.022027, 0.023314)
# process_cpu_s_parts.save = a + b x rows (least squares): writing the model folder (skops), from the fits whose run.json counts it
SAVE_CPU_S = (0.290331, 0.359683, 0.478314)
SAVE_CPU_S_PER_MROW = (1.498188, 1.856066, 2.468235)
# the fits' settings that decide how long tuning goes on
CALIBRATED_SETTINGS = {'tol': 0.002, 'patience': 1, 'family_patience': 3, 'noise_aware': True, 'decision_energy': 'estimated'}
# the fit command's wall time, measured outside its process, per CPU-second of process_j (median): saving the model folder and the interpreter's exit included
WALL_PER_CPU_S = 1.0251
# run.json time.search_s per CPU-second of search_j (median): the clock the time budget reads
SEARCH_WALL_PER_CPU_S = 1.0002
