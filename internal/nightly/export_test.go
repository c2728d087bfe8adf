package nightly

import "context"

// SetBeforeCommit lets a test interrupt a run just before it commits.
func SetBeforeCommit(f func(context.Context)) { beforeCommit = f }
