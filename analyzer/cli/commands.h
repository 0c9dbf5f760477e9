/*
 * commands.h - the subcommands of the cwsweep executable.
 *
 * Each takes the subcommand's own argv (argv[0] is the subcommand name),
 * parses its options with getopt_long (optind reset by main), prints its
 * own `--help`, and returns the process exit code (see cli.h).
 */
#ifndef CW_COMMANDS_H
#define CW_COMMANDS_H

int cw_cmd_validate(int argc, char **argv);
int cw_cmd_analyze(int argc, char **argv);
int cw_cmd_run(int argc, char **argv);
int cw_cmd_merge(int argc, char **argv);
int cw_cmd_init(int argc, char **argv);
int cw_cmd_enable_metrics(int argc, char **argv);
int cw_cmd_ack(int argc, char **argv);

#endif
