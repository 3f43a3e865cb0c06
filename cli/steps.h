/*
 * steps.h -- the test hook of the commands that change a VM (backup,
 * restore --vm): at each named step, with FREEVIX_BACKUP_STEP_FD="W,R" in
 * the environment, write "WHO STEP\n" to descriptor W and wait for a line
 * on descriptor R.  Tests use it to kill the command exactly at a step;
 * without the variable it does nothing.  Thread-safe (one step at a time).
 */
#ifndef FREEVIX_CLI_STEPS_H
#define FREEVIX_CLI_STEPS_H

void cli_step(const char *who, const char *step);

#endif
