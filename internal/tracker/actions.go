package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

func inputOf(l Line) LineInput {
	return LineInput{Kind: l.Kind, Practice: l.PracticeCode, Instance: l.InstanceRef, NewInstance: l.NewInstanceRef,
		Targets: append([]string(nil), l.Targets...), OtherCCGConfirmed: l.OtherCCGConfirmed, Corrects: l.Corrects, Date: l.Date, Note: l.Note, CarriedFrom: l.CarriedFrom}
}

// checkAll validates lines in the order the ledger would take them and
// returns the problems of each, by its index in ls; nums are the lines'
// numbers, as the pages show them, for naming one another.
func (c *checker) checkAll(ls []LineInput, nums []int) (map[int]map[string]string, error) {
	ins := append([]LineInput(nil), ls...)
	idx := make([]int, len(ls))
	for i := range idx {
		idx[i] = i
	}
	orderIdx(ins, idx)
	if err := c.preload(ls); err != nil {
		return nil, err
	}
	out := map[int]map[string]string{}
	for k, i := range idx {
		in := ins[k]
		errs, err := c.check(&in)
		if err != nil {
			return nil, err
		}
		// A line another contradicts is told so, naming the other by its
		// number (the earliest): that says more than what the other's
		// change left of the service ("is active, so it cannot go live").
		for j := range ls {
			if j == i {
				continue
			}
			if field, why := contradiction(ls[i], ls[j], nums[j]); why != "" {
				errs = map[string]string{field: why}
				break
			}
		}
		if len(errs) > 0 {
			out[i] = errs
		}
		ls[i] = in // with its codes normalised
	}
	return out, nil
}

func checkAll(ctx context.Context, db postgres.Querier, r Return, ls []LineInput) (map[int]map[string]string, error) {
	nums := make([]int, len(ls))
	for i := range nums {
		nums[i] = i + 1
	}
	return newChecker(ctx, db, r).checkAll(ls, nums)
}

// orderIdx sorts ins in the order the ledger takes them (by date, then
// kind), permuting idx alongside.
func orderIdx(ins []LineInput, idx []int) {
	for a := 1; a < len(ins); a++ {
		for b := a; b > 0 && before(ins[b], ins[b-1]); b-- {
			ins[b], ins[b-1] = ins[b-1], ins[b]
			idx[b], idx[b-1] = idx[b-1], idx[b]
		}
	}
}

func before(x, y LineInput) bool {
	if !x.Date.Equal(y.Date) {
		return x.Date.Before(y.Date)
	}
	return kindRank[x.Kind] < kindRank[y.Kind]
}

// edit runs fn on an editable return in the actor's scope, locked, after
// checking the version the person saw; the return becomes a draft and its
// version moves on.
func (s *Store) edit(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, fn func(pgx.Tx, Return) error) error {
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lock(ctx, tx, a.Scope, ccgCode, p)
		if err != nil {
			return err
		}
		if r.Version != version {
			return ErrChanged(r)
		}
		if !r.Editable {
			return apperr.New(apperr.Conflict, "The return for %s is %s, so it cannot be changed.", p.Name(), lowerFirst(r.Status.Name()))
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		return bump(ctx, tx, r, Draft)
	})
}

func lineView(in LineInput) map[string]any {
	return map[string]any{"kind": in.Kind, "practice": in.Practice, "service": in.Instance, "new_service": in.NewInstance,
		"targets": in.Targets, "other_ccg_confirmed": in.OtherCCGConfirmed, "corrects": in.Corrects, "date": in.Date.Format(time.DateOnly), "note": in.Note}
}

// Problems re-checks every line of a return against the ledger as it is
// now: what "check your answers" shows, and what stops a submission.
func Problems(ctx context.Context, db postgres.Querier, r Return) ([]string, error) {
	ins := make([]LineInput, len(r.Lines))
	for i, l := range r.Lines {
		ins[i] = inputOf(l)
	}
	probs, err := checkAll(ctx, db, r, ins)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, l := range r.Lines {
		for _, msg := range probs[i] {
			out = append(out, fmt.Sprintf("Change %d (%s at %s): %s", i+1, strings.ToLower(l.Kind.Name()), l.PracticeName, msg))
		}
	}
	return out, nil
}

// Submit sends the return to NHS Digital: it records who and when and
// keeps a frozen copy of this version. nilReturn says explicitly that
// there were no changes this month. A second submit of the same version
// (a double click, a retry) finds it submitted and does nothing.
func (s *Store) Submit(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, nilReturn bool) error {
	now := s.now()
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lock(ctx, tx, a.Scope, ccgCode, p)
		if err != nil {
			return err
		}
		if r.Status == Submitted && r.Version == version+1 {
			return nil // this very submission, sent twice
		}
		if r.Version != version {
			return ErrChanged(r)
		}
		if !r.Editable {
			return apperr.New(apperr.Conflict, "The return for %s is %s already.", p.Name(), lowerFirst(r.Status.Name()))
		}
		if !p.Ended(now) {
			return ErrMonthNotEnded(p)
		}
		switch {
		case nilReturn && len(r.Lines) > 0:
			return apperr.New(apperr.Invalid, "The return has changes: remove them to send a nil return, or submit them.")
		case !nilReturn && len(r.Lines) == 0:
			return apperr.New(apperr.Invalid, "Add this month's changes, or say there were none with a nil return.")
		}
		probs, err := Problems(ctx, tx, r)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			return apperr.New(apperr.Invalid, "The return cannot be submitted until these are put right: %s.", strings.Join(probs, "; "))
		}
		snapshot := make([]map[string]any, len(r.Lines))
		for i, l := range r.Lines {
			snapshot[i] = lineView(inputOf(l))
		}
		b, err := json.Marshal(snapshot)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO return_submissions (return_id, number, submitted_at, submitted_by, nil_return, lines)
			VALUES ($1, $2, $3, $4, $5, $6)`, r.ID, r.Submissions+1, now, a.ID, nilReturn, b); err != nil {
			return fmt.Errorf("keep submission: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE tracker_returns SET status = 'submitted', nil_return = $2, version = version + 1,
				-- Lateness follows the first submission: sent back and resubmitted
				-- after the due date, a return submitted on time stays on time.
				submitted_at = coalesce(submitted_at, $3), submitted_by = coalesce(submitted_by, $4)
			WHERE id = $1`, r.ID, nilReturn, now, a.ID); err != nil {
			return fmt.Errorf("submit: %w", err)
		}
		if r.Status == Returned {
			if err := notifyResubmitted(ctx, tx, now, r, len(r.Lines), nilReturn); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "return.submit",
			EntityType: "return",
			EntityID:   r.AuditID(),
			Before:     map[string]any{"status": r.Status},
			After:      map[string]any{"status": Submitted, "nil_return": nilReturn, "lines": len(r.Lines), "days_late": r.DaysLate(now)},
		})
	})
}

// ReturnToCCG sends a submitted return back to the CCG with the reviewer's
// comment overall and comments per line (by line id).
func (s *Store) ReturnToCCG(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, comment string, lineComments map[int64]string) error {
	now := s.now()
	comment = strings.TrimSpace(comment)
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		r, err := lock(ctx, tx, a.Scope, ccgCode, p)
		if err != nil {
			return err
		}
		if r.Version != version {
			return ErrChanged(r)
		}
		if r.Status != Submitted {
			return apperr.New(apperr.Conflict, "Only a submitted return can be returned, and this one is %s.", lowerFirst(r.Status.Name()))
		}
		commented := comment != ""
		for _, l := range r.Lines {
			c := strings.TrimSpace(lineComments[l.ID])
			commented = commented || c != ""
			if _, err := tx.Exec(ctx, `UPDATE return_lines SET reviewer_comment = $2 WHERE id = $1`, l.ID, c); err != nil {
				return err
			}
		}
		if !commented {
			return apperr.Invalidf("comment", "Say what the CCG must put right: a comment on the return or on a change")
		}
		if _, err := tx.Exec(ctx, `
			UPDATE tracker_returns SET status = 'returned', reviewed_at = $2, reviewed_by = $3, review_comment = $4,
				nil_return = false, version = version + 1
			WHERE id = $1`, r.ID, now, a.ID, comment); err != nil {
			return err
		}
		if err := notifyReturned(ctx, tx, now, r, comment, lineComments); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "return.return",
			EntityType: "return",
			EntityID:   r.AuditID(),
			After:      map[string]any{"comment": comment},
		})
	})
}

// Acceptance is what accepting a return did: the changes it applied to
// the service ledger and the requested changes (dated after its month)
// that wait for a later return, each in the return's order, and how many
// services the applied changes changed.
type Acceptance struct {
	Applied  []Line
	Waiting  []Line
	Services int
}

// Accept applies every change of a submitted return dated in its period to
// the service ledger, each with its history, in one transaction; requested
// changes (dated later) wait for a later return. An accepted return is
// immutable. If the ledger moved so a change no longer fits, nothing is
// applied and the reviewer is told which. It returns what it applied and
// what waits.
func (s *Store) Accept(ctx context.Context, a org.Actor, ccgCode string, p Period, version int) (Acceptance, error) {
	now := s.now()
	var done Acceptance
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		done = Acceptance{}
		r, err := lock(ctx, tx, a.Scope, ccgCode, p)
		if err != nil {
			return err
		}
		if r.Version != version {
			return ErrChanged(r)
		}
		if r.Status != Submitted {
			return apperr.New(apperr.Conflict, "Only a submitted return can be accepted, and this one is %s.", lowerFirst(r.Status.Name()))
		}
		// A return submitted before the rule existed (or by a path that
		// skipped it) still cannot make later days of its month facts.
		if !p.Ended(now) {
			return apperr.New(apperr.Invalid, "The return for %s cannot be accepted before %s, when the month has ended.", p.Name(), dates.Long(p.SubmittableFrom()))
		}
		// Lock the CCG's services the lines may touch before re-checking
		// them, so nothing changes them between the check and the change.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM service_instances WHERE ccg_code = $1 AND state IN ('planned', 'active') FOR UPDATE`, r.CCGCode); err != nil {
			return fmt.Errorf("lock services of %s: %w", r.CCGCode, err)
		}
		probs, err := Problems(ctx, tx, r)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			return apperr.New(apperr.Conflict, "The service ledger has changed since the return was submitted, so it cannot be accepted as it is: %s. Return it to the CCG.", strings.Join(probs, "; "))
		}
		for _, l := range r.Lines {
			if l.Requested {
				done.Waiting = append(done.Waiting, l)
			} else {
				done.Applied = append(done.Applied, l)
			}
		}
		ordered := append([]Line(nil), r.Lines...)
		ins := make([]LineInput, len(ordered))
		idx := make([]int, len(ordered))
		for i, l := range ordered {
			ins[i], idx[i] = inputOf(l), i
		}
		orderIdx(ins, idx)
		for _, i := range idx {
			l := r.Lines[i]
			if l.Requested {
				continue
			}
			n, err := apply(ctx, tx, now, a, l)
			if err != nil {
				return fmt.Errorf("apply %s of %s: %w", l.Kind, l.PracticeCode, err)
			}
			done.Services += n
		}
		if _, err := tx.Exec(ctx, `
			UPDATE tracker_returns SET status = 'accepted', reviewed_at = $2, reviewed_by = $3, version = version + 1 WHERE id = $1`,
			r.ID, now, a.ID); err != nil {
			return err
		}
		if err := notifyAccepted(ctx, tx, now, r, done); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "return.accept",
			EntityType: "return",
			EntityID:   r.AuditID(),
			Before:     map[string]any{"status": r.Status},
			After:      map[string]any{"status": Accepted, "services_changed": done.Services},
		})
	})
	if err != nil {
		return Acceptance{}, err
	}
	return done, nil
}

// apply makes one accepted line's change to the ledger (DOMAIN.md §6
// table) and returns how many services it changed.
func apply(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, l Line) (int, error) {
	d := l.Date
	why := fmt.Sprintf("%s on %s (return line %d)", l.Kind, dates.Long(d), l.ID)
	// Each service changed gets its history entry (by ledger.ChangeTx) and an
	// audit record naming the return line, in the acceptance's transaction.
	change := func(id int64, fn func(*ledger.Instance)) error {
		inst, err := ledger.ChangeTx(ctx, tx, now, org.Actor{ID: a.ID, Scope: org.AllCCGs()}, id, why, &l.ID, func(i *ledger.Instance) error { fn(i); return nil })
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "service.change",
			EntityType: "service_instance",
			EntityID:   inst.Ref(),
			After:      map[string]any{"change": why, "state": inst.State, "actual_m1": dayOf(inst.ActualM1), "m2": dayOf(inst.M2), "cessation": dayOf(inst.Cessation)},
		})

	}
	switch l.Kind {
	case Activation:
		return 1, change(*l.InstanceID, func(i *ledger.Instance) { i.State, i.ActualM1 = ledger.Active, &d })
	case Verification:
		return 1, change(*l.InstanceID, func(i *ledger.Instance) { i.M2 = &d })
	case Cessation:
		return 1, change(*l.InstanceID, func(i *ledger.Instance) { i.State, i.Cessation = ledger.Ceased, &d })
	case Cancellation:
		return 1, change(*l.InstanceID, func(i *ledger.Instance) { i.State = ledger.Cancelled })
	case Migration:
		if err := change(*l.InstanceID, func(i *ledger.Instance) { i.State, i.Cessation = ledger.Ceased, &d }); err != nil {
			return 0, err
		}
		return 2, change(*l.NewInstanceID, func(i *ledger.Instance) { i.State, i.ActualM1 = ledger.Active, &d })
	case Correction:
		return 1, change(*l.InstanceID, func(i *ledger.Instance) {
			switch l.Corrects {
			case CorrectsActualM1:
				i.ActualM1 = &d
			case CorrectsM2:
				i.M2 = &d
			case CorrectsCessation:
				i.Cessation = &d
			}
		})
	case Merger:
		// Every service of the closed practice ends, without penalty: live
		// ones cease on the date, planned ones are cancelled.
		services, err := ledger.OfPractice(ctx, tx, l.PracticeCode)
		if err != nil {
			return 0, err
		}
		for _, s := range services {
			if err := change(s.ID, func(i *ledger.Instance) {
				if i.State == ledger.Active {
					i.State, i.Cessation = ledger.Ceased, &d
				} else {
					i.State = ledger.Cancelled
				}
			}); err != nil {
				return 0, err
			}
		}
		return len(services), nil
	}
	return 0, nil // a split is recorded; the new practices' services come through orders
}

func dayOf(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.DateOnly)
}
