"""What kind of process this is: the `kiss-automl` command, which runs nothing but that
command and exits (set by `cli.run`), or a user's program that imports kiss_automl.

A module of its own so that setting it imports nothing: `estimate` must not pay for pandas.
"""

#: True in the `kiss-automl` command's own process.
command_line = False
