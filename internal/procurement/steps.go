package procurement

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
)

// Step is one step of the guidance.
type Step string

// The steps, in the order they are followed.
const (
	StepPrepare  Step = "prepare"
	StepReview   Step = "review"
	StepEvaluate Step = "evaluate"
	StepAward    Step = "award"
	StepManage   Step = "manage"
)

// Steps lists the steps in order.
var Steps = []Step{StepPrepare, StepReview, StepEvaluate, StepAward, StepManage}

func stepNames() []string {
	out := make([]string, len(Steps))
	for i, s := range Steps {
		out[i] = string(s)
	}
	return out
}

// Name is the step as the guidance calls it.
func (s Step) Name() string {
	switch s {
	case StepPrepare:
		return "Prepare"
	case StepReview:
		return "Review Catalogue Solutions"
	case StepEvaluate:
		return "Evaluate"
	case StepAward:
		return "Call-off order form and contract award"
	case StepManage:
		return "Manage your contract"
	}
	return string(s)
}

// StepStatus is where a step is.
type StepStatus string

// The statuses of a step.
const (
	NotStarted StepStatus = "not_started"
	Completed  StepStatus = "completed"
	Skipped    StepStatus = "skipped" // Evaluate, under a Direct Award
)

// StepState is a step's status, and who completed it and when.
type StepState struct {
	Step        Step
	Status      StepStatus
	CompletedBy string
	CompletedAt *time.Time
}

// Done reports whether the step needs no more work: completed or skipped.
func (s StepState) Done() bool { return s.Status == Completed || s.Status == Skipped }

// State returns the state of one step.
func (p Procurement) State(s Step) StepState {
	for _, st := range p.Steps {
		if st.Step == s {
			return st
		}
	}
	return StepState{Step: s, Status: NotStarted}
}

// Needs is the step that must be completed before s can be: the one
// before it, except that a Direct Award goes from Review Catalogue
// Solutions straight to the award. Prepare needs nothing ("").
func (p Procurement) Needs(s Step) Step {
	switch s {
	case StepReview:
		return StepPrepare
	case StepEvaluate:
		return StepReview
	case StepAward:
		if p.Procedure == DirectAward {
			return StepReview
		}
		return StepEvaluate
	case StepManage:
		return StepAward
	}
	return ""
}

// CanStart reports whether the step it needs is completed.
func (p Procurement) CanStart(s Step) bool {
	n := p.Needs(s)
	return n == "" || p.State(n).Status == Completed
}

// NextStep is the first step still to do, "" when all are done.
func (p Procurement) NextStep() Step {
	for _, st := range p.Steps {
		if !st.Done() {
			return st.Step
		}
	}
	return ""
}

// CheckChange says why step s cannot be changed or completed now (a
// Conflict naming the step to complete first, or the step that relies on
// it), or nil when it can.
func (p Procurement) CheckChange(s Step) error { return p.checkOpen(s) }

// checkOpen refuses a change to step s unless the step it needs is
// completed and nothing that relies on s is completed yet (changing s
// would pull the ground from under it). The award and Manage your
// contract are final once completed: the award made an order, which the
// order pages amend from then on.
func (p Procurement) checkOpen(s Step) error {
	if p.Procedure == DirectAward && s == StepEvaluate {
		return &apperr.Error{Code: apperr.Conflict, Err: ErrStepSkipped,
			Message: "A Direct Award skips Evaluate: there is nothing to score."}
	}
	if !p.CanStart(s) {
		return &apperr.Error{Code: apperr.Conflict, Err: ErrStepOrder,
			Message: fmt.Sprintf("Complete %s before %s.", p.Needs(s).Name(), s.Name())}
	}
	if (s == StepAward || s == StepManage) && p.State(s).Status == Completed {
		return &apperr.Error{Code: apperr.Conflict, Err: ErrStepClosed,
			Message: fmt.Sprintf("%s is already completed.", s.Name())}
	}
	for _, t := range Steps {
		if p.Needs(t) == s && p.State(t).Status == Completed {
			return &apperr.Error{Code: apperr.Conflict, Err: ErrStepClosed,
				Message: fmt.Sprintf("%s cannot change now: %s, which relies on it, is completed.", s.Name(), t.Name())}
		}
	}
	return nil
}

// setStep records a step's new status: who and when for a completion,
// nobody for anything else.
func setStep(ctx context.Context, tx pgx.Tx, now time.Time, actorID *int64, id int64, s Step, status StepStatus) error {
	var by *int64
	var at *time.Time
	if status == Completed {
		by, at = actorID, &now
	}
	if _, err := tx.Exec(ctx, `
		UPDATE procurement_steps SET status = $3, completed_by = $4, completed_at = $5
		WHERE procurement_id = $1 AND step = $2`, id, s, status, by, at); err != nil {
		return fmt.Errorf("set step %s of procurement %d: %w", s, id, err)
	}
	return nil
}

// reopen sets a completed step back to not started, after a change to
// what it completed: it must be completed again.
func reopen(ctx context.Context, tx pgx.Tx, now time.Time, p Procurement, s Step) error {
	if p.State(s).Status != Completed {
		return nil
	}
	return setStep(ctx, tx, now, nil, p.ID, s, NotStarted)
}
