"""What kind of process this is: the `kiss-automl` command, which runs nothing but that
command and exits (set by `cli.run`), or a user's program that imports kiss_automl; and
whether a Ctrl-C is pending that the search has not acted on yet.

A module of its own so that setting it imports nothing: `estimate` must not pay for pandas.
"""

#: True in the `kiss-automl` command's own process.
command_line = False

#: Set by the `fit` command's SIGINT and SIGTERM handler as it raises KeyboardInterrupt, and
#: cleared by the search when it stops for it. Raised while a library's finalizer runs (a
#: LightGBM Booster's __del__, freeing a model), the KeyboardInterrupt is printed as "ignored"
#: and lost, and the search would run on after a Ctrl-C: it raises it again between candidates.
interrupt_pending = False
