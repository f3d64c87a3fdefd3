package demo

import "strconv"

// StaysUp tells whether `make demo` keeps everything up after the journey
// until Ctrl-C. Not with --once, and not under CI (the variable CI set, as
// CI runners set it, to anything but false): there no one is at the
// keyboard, and a job would hang until its own timeout.
func StaysUp(once bool, getenv func(string) string) bool {
	return !once && !inCI(getenv)
}

func inCI(getenv func(string) string) bool {
	v := getenv("CI")
	if v == "" {
		return false
	}
	ci, err := strconv.ParseBool(v)
	return err != nil || ci
}
