"""`kiss-automl estimate`: the energy, CO2 and time of a fit, forecast before spending them.

scan.py reads the CSV cheaply (the standard library only on the usual path); forecast.py
walks the search's known structure and prices each step with the cost model, corrected by
constants measured on real fits (calibration.py, from benchmarks/calibrate_estimate.py);
command.py is the verb: options, output, and the estimate's own cost.
"""
