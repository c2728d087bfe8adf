package org

// Actor is who carries out a command and which CCGs they may act on: a
// signed-in user (ID set, the scope of their role) or the system (the
// night's jobs, the command line, the demo seed: no ID, every CCG). The
// domain packages' commands take one Actor rather than an id and a scope
// apart, so that neither can be forgotten or the two mixed up; the audit
// log records Actor.ID (nil: the system).
type Actor struct {
	ID    *int64
	Scope Scope
}

// UserActor is a signed-in user acting within scope.
func UserActor(id int64, scope Scope) Actor { return Actor{ID: &id, Scope: scope} }

// System is the tracker itself acting, on every CCG: the nightly job, the
// command line's imports, the seed. The audit log shows it as "the system".
func System() Actor { return Actor{Scope: AllCCGs()} }

// IsSystem reports whether no user is behind the command.
func (a Actor) IsSystem() bool { return a.ID == nil }
