package tracker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// One way to change a return's lines, for the form and the workbook alike:
// an amendment adds lines, edits lines and removes lines, all or nothing
// (DOMAIN.md §6: nothing is saved from a file that has errors), each new
// or edited line checked against the ledger and every line the return
// would then have, under the return's lock and its version.

// LineChange is one change to a return's lines: a new line (ID 0), a line
// edited (its ID and what it becomes) or removed (its ID and Remove).
type LineChange struct {
	ID     int64
	Remove bool
	Line   LineInput
}

// Amend makes changes to an editable return's lines in one transaction,
// the return's version moving on once. If any change has a problem none
// is made: the problems come back by the change's index, keyed by field,
// with an Invalid error.
func (s *Store) Amend(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, changes []LineChange) (map[int]map[string]string, error) {
	now := s.now()
	var problems map[int]map[string]string
	err := s.edit(ctx, a, ccgCode, p, version, func(tx pgx.Tx, r Return) error {
		if len(changes) == 0 {
			return apperr.New(apperr.Invalid, "There are no changes to make.")
		}
		plan, err := planAmendment(r, changes)
		if err != nil {
			return err
		}
		if plan.adds() && r.NilReturn {
			return apperr.New(apperr.Invalid, "This return says there were no changes this month.")
		}
		if problems, err = plan.check(ctx, tx); err != nil {
			return err
		}
		if len(problems) > 0 {
			return apperr.New(apperr.Invalid, "The changes could not be made: nothing was saved")
		}
		return plan.save(ctx, tx, now, a)
	})
	if len(problems) == 0 {
		problems = nil
	}
	return problems, err
}

// CheckAmendment reports what Amend would find wrong with changes if they
// were made now, saving nothing: for showing every problem of a form or a
// file at once, when some of it could not even be read.
func CheckAmendment(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, p Period, changes []LineChange) (map[int]map[string]string, error) {
	r, err := Get(ctx, db, scope, ccgCode, p)
	if err != nil {
		return nil, err
	}
	plan, err := planAmendment(r, changes)
	if err != nil {
		return nil, err
	}
	return plan.check(ctx, db)
}

// AddLines adds change lines, all or none: Amend with new lines only.
func (s *Store) AddLines(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, ins []LineInput) (map[int]map[string]string, error) {
	return s.Amend(ctx, a, ccgCode, p, version, adding(ins))
}

// CheckLines is CheckAmendment for new lines only.
func CheckLines(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, p Period, ins []LineInput) (map[int]map[string]string, error) {
	return CheckAmendment(ctx, db, scope, ccgCode, p, adding(ins))
}

func adding(ins []LineInput) []LineChange {
	out := make([]LineChange, len(ins))
	for i, in := range ins {
		out[i] = LineChange{Line: in}
	}
	return out
}

// AddLine adds one change line; its problems come back as the fields of
// an Invalid error.
func (s *Store) AddLine(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, in LineInput) error {
	return one(s.Amend(ctx, a, ccgCode, p, version, []LineChange{{Line: in}}))
}

// EditLine changes a line of the return to in, as AddLine would add it.
func (s *Store) EditLine(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, lineID int64, in LineInput) error {
	return one(s.Amend(ctx, a, ccgCode, p, version, []LineChange{{ID: lineID, Line: in}}))
}

// DeleteLine takes a line off an editable return.
func (s *Store) DeleteLine(ctx context.Context, a org.Actor, ccgCode string, p Period, version int, lineID int64) error {
	return one(s.Amend(ctx, a, ccgCode, p, version, []LineChange{{ID: lineID, Remove: true}}))
}

func one(problems map[int]map[string]string, err error) error {
	if errs := problems[0]; len(errs) > 0 {
		return &apperr.Error{Code: apperr.Invalid, Message: "The change could not be made", Fields: errs}
	}
	return err
}

// amendment is a return's lines as they are and as the changes would
// leave them: after lists every line then on the return, kept ones first
// in their order, then the new ones; from says, for each, the change that
// made it (-1 for a line left as it was), and nums its number as the
// person sees it (a line kept keeps its number on the page until saved).
type amendment struct {
	ret     Return
	changes []LineChange
	after   []LineInput
	ids     []int64 // the line id of each of after, 0 for a new one
	from    []int
	nums    []int
}

func planAmendment(r Return, changes []LineChange) (*amendment, error) {
	a := &amendment{ret: r, changes: changes}
	byID := map[int64]int{}
	for i, c := range changes {
		if c.ID == 0 {
			continue
		}
		if _, twice := byID[c.ID]; twice {
			return nil, apperr.New(apperr.Invalid, "Change %d is changed twice at once.", lineNumber(r, c.ID))
		}
		byID[c.ID] = i
	}
	found := 0
	for n, l := range r.Lines {
		i, changed := byID[l.ID]
		switch {
		case !changed:
			a.add(inputOf(l), l.ID, -1, n+1)
		case changes[i].Remove:
			found++
		default:
			found++
			in := changes[i].Line
			if l.CarriedFrom != nil {
				// A requested change confirmed keeps what was accepted:
				// only its actual date and its note are the buyer's.
				carried := inputOf(l)
				carried.Date, carried.Note = in.Date, in.Note
				in = carried
			}
			in.CarriedFrom = l.CarriedFrom
			a.add(in, l.ID, i, n+1)
		}
	}
	if found != len(byID) {
		return nil, apperr.New(apperr.NotFound, "That change is not on the return: it may have been removed already.")
	}
	next := len(r.Lines)
	for i, c := range changes {
		if c.ID == 0 {
			next++
			a.add(c.Line, 0, i, next)
		}
	}
	return a, nil
}

func (a *amendment) add(in LineInput, id int64, from, num int) {
	in = in.Trimmed()
	in.Targets = append([]string(nil), in.Targets...) // the checker normalises them in place
	a.after, a.ids, a.from, a.nums = append(a.after, in), append(a.ids, id), append(a.from, from), append(a.nums, num)
}

func (a *amendment) adds() bool {
	for _, c := range a.changes {
		if c.ID == 0 {
			return true
		}
	}
	return false
}

// check finds the problems of the new and edited lines, by the index of
// their change. A line left as it was that had no problem before and
// would have one after is the changes' doing too: the change naming the
// same service or practice (else the first) is refused, naming that line,
// so that "check your answers" never finds what adding a line caused.
func (a *amendment) check(ctx context.Context, db postgres.Querier) (map[int]map[string]string, error) {
	before := make([]LineInput, len(a.ret.Lines))
	nums := make([]int, len(a.ret.Lines))
	for i, l := range a.ret.Lines {
		before[i], nums[i] = inputOf(l), i+1
	}
	c := newChecker(ctx, db, a.ret)
	was, err := c.checkAll(before, nums)
	if err != nil {
		return nil, err
	}
	wasWrong := map[int64]bool{}
	for i, errs := range was {
		if len(errs) > 0 {
			wasWrong[a.ret.Lines[i].ID] = true
		}
	}
	c = c.fresh()
	will, err := c.checkAll(a.after, a.nums)
	if err != nil {
		return nil, err
	}
	out := map[int]map[string]string{}
	for k, errs := range will {
		if len(errs) == 0 {
			continue
		}
		if a.from[k] >= 0 {
			out[a.from[k]] = errs
			continue
		}
		if wasWrong[a.ids[k]] {
			continue // "check your answers" business, not the changes'
		}
		blame := a.blame(a.after[k])
		if blame < 0 {
			continue
		}
		if out[blame] == nil {
			field := FieldInstance
			if k, ok := a.lineOf(blame); ok && !a.after[k].Kind.Uses(FieldInstance) {
				field = FieldTargets
			}
			for _, msg := range errs {
				out[blame] = map[string]string{field: fmt.Sprintf("This would make change %d wrong: %s", a.nums[k], lowerFirst(msg))}
				break
			}
		}
	}
	return out, nil
}

// lineOf is the index in after of the line change i made; a removal
// made none.
func (a *amendment) lineOf(i int) (int, bool) {
	for k, from := range a.from {
		if from == i {
			return k, true
		}
	}
	return 0, false
}

// blame is the change that most likely broke the line other: one about
// the same service, else at the same practice, else the first.
func (a *amendment) blame(other LineInput) int {
	same := func(x, y string) bool { return x != "" && strings.EqualFold(x, y) }
	first, practice := -1, -1
	for k, in := range a.after {
		i := a.from[k]
		if i < 0 {
			continue
		}
		if first < 0 {
			first = i
		}
		for _, x := range []string{in.Instance, in.NewInstance} {
			if same(x, other.Instance) || same(x, other.NewInstance) {
				return i
			}
		}
		if practice < 0 && same(in.Practice, other.Practice) {
			practice = i
		}
	}
	if practice >= 0 {
		return practice
	}
	if first < 0 {
		// Only removals: the first of them took away what the line needed
		// (a verification's go-live).
		for i, c := range a.changes {
			if c.Remove {
				return i
			}
		}
	}
	return first
}

// save writes the amendment: removals, edits, then new lines, each with
// its audit record.
func (a *amendment) save(ctx context.Context, tx pgx.Tx, now time.Time, by org.Actor) error {
	what := a.ret.AuditID()
	old := map[int64]Line{}
	for _, l := range a.ret.Lines {
		old[l.ID] = l
	}
	for _, c := range a.changes {
		if c.Remove {
			if _, err := tx.Exec(ctx, `DELETE FROM return_lines WHERE id = $1`, c.ID); err != nil {
				return fmt.Errorf("delete line: %w", err)
			}
			if err := audit.Record(ctx, tx, audit.Event{
				At:         now,
				By:         by.ID,
				Action:     "return.delete_line",
				EntityType: "return",
				EntityID:   what,
				Before:     lineView(inputOf(old[c.ID])),
			}); err != nil {
				return err
			}
		}
	}
	for k, in := range a.after {
		switch {
		case a.from[k] < 0:
			continue
		case a.ids[k] != 0:
			if err := updateLine(ctx, tx, a.ids[k], in); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Event{
				At:         now,
				By:         by.ID,
				Action:     "return.edit_line",
				EntityType: "return",
				EntityID:   what,
				Before:     lineView(inputOf(old[a.ids[k]])),
				After:      lineView(in),
			}); err != nil {
				return err
			}
		default:
			if err := insertLine(ctx, tx, now, by, a.ret, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// lineColumnsOf are the stored values of a checked line, as its kind uses
// them.
func lineColumnsOf(in LineInput) (instanceID, newID *int64, targets []string, corrects *string) {
	if id, _, ok := ParseRef(in.Instance); ok && in.Kind.Uses(FieldInstance) {
		instanceID = &id
	}
	if id, _, ok := ParseRef(in.NewInstance); ok && in.Kind.Uses(FieldNewInstance) {
		newID = &id
	}
	if in.Kind.Uses(FieldCorrects) {
		corrects = &in.Corrects
	}
	targets = in.Targets
	if targets == nil || !in.Kind.Uses(FieldTargets) {
		targets = []string{}
	}
	return instanceID, newID, targets, corrects
}

// insertLine saves one checked new line.
func insertLine(ctx context.Context, tx pgx.Tx, now time.Time, a org.Actor, r Return, in LineInput) error {
	instanceID, newID, targets, corrects := lineColumnsOf(in)
	if _, err := tx.Exec(ctx, `
		INSERT INTO return_lines (return_id, kind, practice_code, instance_id, new_instance_id, target_practices, corrects,
			effective_date, note, carried_from, other_ccg_confirmed, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, in.Kind, in.Practice, instanceID, newID, targets, corrects, in.Date, in.Note, in.CarriedFrom,
		in.OtherCCGConfirmed && len(targets) > 0, now, a.ID); err != nil {
		if postgres.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "That requested change already has its actual date on another return.")
		}
		return fmt.Errorf("add line: %w", err)
	}
	return audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         a.ID,
		Action:     "return.add_line",
		EntityType: "return",
		EntityID:   r.AuditID(),
		After:      lineView(in),
	})
}

// updateLine saves one checked edited line; the reviewer's comment on it
// stays, for the reviewer to see it answered.
func updateLine(ctx context.Context, tx pgx.Tx, id int64, in LineInput) error {
	instanceID, newID, targets, corrects := lineColumnsOf(in)
	if _, err := tx.Exec(ctx, `
		UPDATE return_lines SET kind = $2, practice_code = $3, instance_id = $4, new_instance_id = $5, target_practices = $6,
			corrects = $7, effective_date = $8, note = $9, other_ccg_confirmed = $10
		WHERE id = $1`,
		id, in.Kind, in.Practice, instanceID, newID, targets, corrects, in.Date, in.Note, in.OtherCCGConfirmed && len(targets) > 0); err != nil {
		return fmt.Errorf("edit line: %w", err)
	}
	return nil
}

// lineNumber is the number of the line with id on the return, as its
// pages show it.
func lineNumber(r Return, id int64) int {
	for i, l := range r.Lines {
		if l.ID == id {
			return i + 1
		}
	}
	return 0
}
