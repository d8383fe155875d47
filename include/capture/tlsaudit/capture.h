/* capture.h - the `tlsaudit capture` subcommand. */
#ifndef TLSAUDIT_CAPTURE_H
#define TLSAUDIT_CAPTURE_H

/* argv[0] is "capture". Returns the process exit status: 0 success, 1 error (data may be
 * incomplete: what was read before is stored), 2 usage. */
int ta_cmd_capture(int argc, char **argv);

#endif
