package tracker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/dates"
	"ccgtracker/internal/ledger"
	"ccgtracker/internal/postgres"
)

// LineInput is a change line as the buyer entered it, in a form or a file.
type LineInput struct {
	Kind        Kind
	Practice    string
	Instance    string   // the service, as SI12-A81001
	NewInstance string   // a migration's new service
	Targets     []string // a merger's receiving practice, a split's
	// OtherCCGConfirmed is the buyer's explicit word that a receiving
	// practice of another CCG is meant: without it such a target is refused.
	OtherCCGConfirmed bool
	Corrects          string // the date a correction corrects
	Date              time.Time
	Note              string
	CarriedFrom       *int64
}

// The fields of a line by meaning, the keys of its problems. The views map
// them to their inputs (the date is three); the workbook to its columns.
const (
	FieldKind        = "kind"
	FieldPractice    = "practice"
	FieldInstance    = "instance"
	FieldNewInstance = "new-instance"
	FieldTargets     = "targets"
	FieldOtherCCG    = "other-ccg"
	FieldCorrects    = "corrects"
	FieldDate        = "date"
	FieldNote        = "note"
)

// sim is what a line may change of a service: its state and dates, as the
// ledger has them and as the return's other lines would leave them.
type sim struct {
	inst      ledger.Instance
	state     ledger.State
	actualM1  *time.Time
	m2        *time.Time
	cessation *time.Time
	term      ledger.Term
}

func newSim(i ledger.Instance, term ledger.Term) *sim {
	return &sim{inst: i, state: i.State, actualM1: i.ActualM1, m2: i.M2, cessation: i.Cessation, term: term}
}

// checker validates lines of one return against the ledger and each other.
type checker struct {
	ctx       context.Context
	db        postgres.Querier
	ret       Return
	practices map[string]practiceFacts
	sims      map[int64]*sim
}

type practiceFacts struct {
	name    string
	ccg     string
	ccgName string
	open    *time.Time
	closed  *time.Time
	exists  bool
}

func newChecker(ctx context.Context, db postgres.Querier, ret Return) *checker {
	return &checker{ctx: ctx, db: db, ret: ret, practices: map[string]practiceFacts{}, sims: map[int64]*sim{}}
}

// fresh is a checker starting again from the ledger, keeping the
// practices already read (they do not change with the lines).
func (c *checker) fresh() *checker {
	return &checker{ctx: c.ctx, db: c.db, ret: c.ret, practices: c.practices, sims: map[int64]*sim{}}
}

func (c *checker) practice(code string) (practiceFacts, error) {
	if p, ok := c.practices[code]; ok {
		return p, nil
	}
	var p practiceFacts
	err := c.db.QueryRow(c.ctx, `SELECT p.name, p.ccg_code, c.name, p.open_date, p.close_date
		FROM practices p JOIN ccgs c ON c.code = p.ccg_code WHERE p.code = $1`, code).
		Scan(&p.name, &p.ccg, &p.ccgName, &p.open, &p.closed)
	switch {
	case err == nil:
		p.exists = true
	case !errors.Is(err, pgx.ErrNoRows):
		return p, err
	}
	c.practices[code] = p
	return p, nil
}

// preload reads every service the lines name with a few queries, instead
// of two per line: an uploaded return may have two thousand.
func (c *checker) preload(ins []LineInput) error {
	var ids []int64
	for _, in := range ins {
		for _, ref := range []string{in.Instance, in.NewInstance} {
			if id, _, ok := ParseRef(ref); ok {
				if _, done := c.sims[id]; !done {
					ids = append(ids, id)
				}
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := ledger.ByIDs(c.ctx, c.db, ids)
	if err != nil {
		return err
	}
	list := make([]ledger.Instance, 0, len(found))
	for _, i := range found {
		list = append(list, i)
	}
	terms, err := ledger.TermsOf(c.ctx, c.db, list)
	if err != nil {
		return err
	}
	for _, i := range list {
		c.sims[i.ID] = newSim(i, terms[i.ID])
	}
	return nil
}

func (c *checker) instance(id int64) (*sim, error) {
	if s, ok := c.sims[id]; ok {
		return s, nil
	}
	found, err := ledger.ByIDs(c.ctx, c.db, []int64{id})
	if err != nil {
		return nil, err
	}
	i, ok := found[id]
	if !ok {
		return nil, nil
	}
	term, err := ledger.TermOf(c.ctx, c.db, i)
	if err != nil {
		return nil, err
	}
	s := newSim(i, term)
	c.sims[id] = s
	return s, nil
}

// servicesOf is every planned or live service of a practice, as sims
// shared with the lines about each of them.
func (c *checker) servicesOf(practice string) ([]*sim, error) {
	list, err := ledger.OfPractice(c.ctx, c.db, practice)
	if err != nil {
		return nil, err
	}
	out := make([]*sim, 0, len(list))
	for _, i := range list {
		s, err := c.instance(i.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// kindRank orders lines of one day as the ledger must take them: a
// service goes live before it is verified, corrected or ceased.
var kindRank = map[Kind]int{Activation: 1, Migration: 2, Verification: 3, Correction: 4, Cessation: 5, Cancellation: 6, Merger: 7, Split: 8}

// check validates one line against the state the lines applied before it
// left; on success it applies the line to that state. It returns the
// problems keyed by field.
func (c *checker) check(in *LineInput) (map[string]string, error) {
	errs := map[string]string{}
	in.Practice = strings.ToUpper(strings.TrimSpace(in.Practice))
	in.Note = strings.TrimSpace(in.Note)
	if !in.Kind.Valid() {
		errs[FieldKind] = "Select the kind of change"
		return errs, nil
	}
	if len([]rune(in.Note)) > 500 {
		errs[FieldNote] = "Note must be 500 characters or fewer"
	}
	p, err := c.practice(in.Practice)
	if err != nil {
		return nil, err
	}
	switch {
	case in.Practice == "":
		errs[FieldPractice] = "Enter the practice's ODS code"
	case !p.exists:
		errs[FieldPractice] = fmt.Sprintf("%s is not a practice", in.Practice)
	case p.ccg != c.ret.CCGCode:
		// Not named: another CCG's practice is hidden from this CCG's
		// buyers everywhere else (its page is a 404).
		errs[FieldPractice] = fmt.Sprintf("%s is not a practice of %s", in.Practice, c.ret.CCGName)
	}
	if in.Date.IsZero() {
		errs[FieldDate] = "Enter the date of the change"
	}
	if len(errs) > 0 {
		return errs, nil
	}
	d := in.Date
	// A cessation or merger date is the first day without the service, so
	// it may be the day after the practice closed.
	lastDay := p.closed
	if lastDay != nil && (in.Kind == Cessation || in.Kind == Merger || in.Kind == Migration) {
		next := lastDay.AddDate(0, 0, 1)
		lastDay = &next
	}
	switch {
	case p.open != nil && d.Before(*p.open):
		errs[FieldDate] = fmt.Sprintf("The date is before %s opened (%s)", p.name, dates.Long(*p.open))
	case lastDay != nil && d.After(*lastDay):
		errs[FieldDate] = fmt.Sprintf("The date is after %s closed (%s)", p.name, dates.Long(*p.closed))
	}

	var old, fresh *sim
	if in.Kind.NeedsInstance() {
		if old, err = c.serviceOf(in.Instance, in.Practice, FieldInstance, errs); err != nil {
			return nil, err
		}
	}
	if in.Kind == Migration {
		if strings.TrimSpace(in.Instance) == "" {
			errs[FieldInstance] = "Select the live service the practice moved from"
		}
		if fresh, err = c.serviceOf(in.NewInstance, in.Practice, FieldNewInstance, errs); err != nil {
			return nil, err
		}
	}
	if len(errs) > 0 {
		return errs, nil
	}
	checkTerm := func(s *sim, field string) {
		if !s.term.From.IsZero() && d.Before(s.term.From) {
			errs[field] = fmt.Sprintf("The date is before %s started (%s)", describe(s), dates.Long(s.term.From))
		} else if !s.term.To.IsZero() && d.After(s.term.To) {
			errs[field] = fmt.Sprintf("The date is after the order of %s ends (%s)", describe(s), dates.Long(s.term.To))
		}
	}

	switch in.Kind {
	case Activation:
		switch {
		case old.state != ledger.Planned:
			errs[FieldInstance] = fmt.Sprintf("%s is %s, so it cannot go live: only a planned service can", describe(old), stateWord(old))
		case old.cessation != nil && !d.Before(*old.cessation):
			errs[FieldDate] = fmt.Sprintf("%s ends on %s (its order was terminated), so it cannot go live on or after that day", describe(old), dates.Long(*old.cessation))
		default:
			checkTerm(old, FieldDate)
		}
		if len(errs) == 0 {
			old.state, old.actualM1 = ledger.Active, &d
		}
	case Verification:
		switch {
		case old.state != ledger.Active && old.state != ledger.Ceased:
			errs[FieldInstance] = fmt.Sprintf("%s is %s: only a service that went live can be verified", describe(old), stateWord(old))
		case old.m2 != nil:
			errs[FieldInstance] = fmt.Sprintf("%s was already verified on %s: report a correction to change the date", describe(old), dates.Long(*old.m2))
		case old.actualM1 == nil:
			errs[FieldInstance] = fmt.Sprintf("%s has no go-live date to verify after", describe(old))
		case d.Before(*old.actualM1):
			errs[FieldDate] = fmt.Sprintf("Verification must be on or after %s went live (%s)", describe(old), dates.Long(*old.actualM1))
		default:
			checkTerm(old, FieldDate)
		}
		if len(errs) == 0 {
			old.m2 = &d
		}
	case Cessation:
		switch {
		case old.state == ledger.Planned:
			errs[FieldInstance] = fmt.Sprintf("%s has not gone live, so it cannot cease: report a cancellation instead", describe(old))
		case old.state != ledger.Active || old.actualM1 == nil:
			errs[FieldInstance] = fmt.Sprintf("%s is %s already", describe(old), stateWord(old))
		case !d.After(*old.actualM1):
			errs[FieldDate] = fmt.Sprintf("Cessation must be after %s went live (%s)", describe(old), dates.Long(*old.actualM1))
		default:
			checkTerm(old, FieldDate)
		}
		if len(errs) == 0 {
			old.state, old.cessation = ledger.Ceased, &d
		}
	case Migration:
		switch {
		case old.state != ledger.Active || old.actualM1 == nil:
			errs[FieldInstance] = fmt.Sprintf("%s is %s: only a live service can be migrated from", describe(old), stateWord(old))
		case !d.After(*old.actualM1):
			errs[FieldDate] = fmt.Sprintf("The migration must be after %s went live (%s)", describe(old), dates.Long(*old.actualM1))
		case fresh.state != ledger.Planned:
			errs[FieldNewInstance] = fmt.Sprintf("%s is %s: the new service must be a planned one, from an order", describe(fresh), stateWord(fresh))
		case fresh.inst.ID == old.inst.ID:
			errs[FieldNewInstance] = "The new service must be another service than the one it replaces"
		case fresh.cessation != nil && !d.Before(*fresh.cessation):
			errs[FieldNewInstance] = fmt.Sprintf("%s ends on %s, so it cannot start on or after that day", describe(fresh), dates.Long(*fresh.cessation))
		default:
			checkTerm(fresh, FieldDate)
		}
		if len(errs) == 0 {
			old.state, old.cessation = ledger.Ceased, &d
			fresh.state, fresh.actualM1 = ledger.Active, &d
		}
	case Cancellation:
		if old.state != ledger.Planned {
			errs[FieldInstance] = fmt.Sprintf("%s is %s: only a planned service can be cancelled (report a cessation for a live one)", describe(old), stateWord(old))
		}
		if len(errs) == 0 {
			old.state = ledger.Cancelled
		}
	case Correction:
		c.checkCorrection(in, old, errs)
	case Merger:
		if len(in.Targets) != 1 {
			errs[FieldTargets] = "Enter the ODS code of the one practice it merged into"
		} else if err := c.checkTargets(in, errs); err != nil {
			return nil, err
		}
		// Every service of the closed practice ends with the merger: later
		// lines about them are then refused, not silently reversed.
		services, err := c.servicesOf(in.Practice)
		if err != nil {
			return nil, err
		}
		for _, s := range services {
			if s.state == ledger.Active && s.actualM1 != nil && !d.After(*s.actualM1) {
				errs[FieldDate] = fmt.Sprintf("The merger must be after %s went live (%s)", describe(s), dates.Long(*s.actualM1))
			}
		}
		if len(errs) == 0 {
			for _, s := range services {
				switch s.state {
				case ledger.Active:
					s.state, s.cessation = ledger.Ceased, &d
				case ledger.Planned:
					s.state = ledger.Cancelled
				}
			}
		}
	case Split:
		if len(in.Targets) == 0 {
			errs[FieldTargets] = "Enter the ODS codes of the practices its patients moved to"
		} else if err := c.checkTargets(in, errs); err != nil {
			return nil, err
		}
	}
	return errs, nil
}

func (c *checker) checkCorrection(in *LineInput, old *sim, errs map[string]string) {
	d := in.Date
	var current **time.Time
	switch in.Corrects {
	case CorrectsActualM1:
		current = &old.actualM1
	case CorrectsM2:
		current = &old.m2
	case CorrectsCessation:
		current = &old.cessation
	default:
		errs[FieldCorrects] = "Select the date the correction is for"
		return
	}
	switch {
	case *current == nil:
		errs[FieldCorrects] = fmt.Sprintf("%s has no %s to correct", describe(old), correctsName(in.Corrects))
	case (*current).Equal(d):
		errs[FieldDate] = fmt.Sprintf("%s already has this %s", describe(old), correctsName(in.Corrects))
	case in.Corrects == CorrectsActualM1 && old.cessation != nil && !d.Before(*old.cessation):
		errs[FieldDate] = "The go-live date must be before the cessation date (" + dates.Long(*old.cessation) + ")"
	case in.Corrects == CorrectsActualM1 && old.m2 != nil && d.After(*old.m2):
		errs[FieldDate] = "The go-live date must be on or before the verification date (" + dates.Long(*old.m2) + ")"
	case in.Corrects != CorrectsActualM1 && old.actualM1 == nil:
		errs[FieldCorrects] = fmt.Sprintf("%s has not gone live: its %s comes from its order, not from a return", describe(old), correctsName(in.Corrects))
	case in.Corrects == CorrectsCessation && !d.After(*old.actualM1):
		errs[FieldDate] = "The cessation date must be after the go-live date (" + dates.Long(*old.actualM1) + ")"
	case in.Corrects == CorrectsM2 && d.Before(*old.actualM1):
		errs[FieldDate] = "The verification date must be on or after the go-live date (" + dates.Long(*old.actualM1) + ")"
	case !old.term.From.IsZero() && d.Before(old.term.From):
		errs[FieldDate] = fmt.Sprintf("The date is before %s started (%s)", describe(old), dates.Long(old.term.From))
	case !old.term.To.IsZero() && d.After(old.term.To):
		errs[FieldDate] = fmt.Sprintf("The date is after the order of %s ends (%s)", describe(old), dates.Long(old.term.To))
	}
	if len(errs) == 0 {
		*current = &d
	}
}

// Corrects are the dates a correction may correct, in the order forms
// offer them.
var Corrects = []string{CorrectsActualM1, CorrectsM2, CorrectsCessation}

// CorrectsName is the date a correction corrects, in words: "go-live date
// (actual M1)".
func CorrectsName(c string) string { return correctsName(c) }

func correctsName(c string) string {
	switch c {
	case CorrectsActualM1:
		return "go-live date (actual M1)"
	case CorrectsM2:
		return "verification date (M2)"
	case CorrectsCessation:
		return "cessation date"
	}
	return c
}

func (c *checker) checkTargets(in *LineInput, errs map[string]string) error {
	seen := map[string]bool{}
	var problems, other []string
	for i, t := range in.Targets {
		t = strings.ToUpper(strings.TrimSpace(t))
		in.Targets[i] = t
		p, err := c.practice(t)
		if err != nil {
			return err
		}
		switch {
		case t == in.Practice:
			problems = append(problems, "a practice cannot merge or split into itself")
		case seen[t]:
			problems = append(problems, t+" is given twice")
		case !p.exists:
			problems = append(problems, t+" is not a practice")
		case p.ccg != c.ret.CCGCode && !in.OtherCCGConfirmed:
			// Patients do move across a CCG's border, but rarely: a code
			// mistyped into a neighbour's is likelier, so the buyer says so.
			other = append(other, fmt.Sprintf("%s (%s) is a practice of %s, not of %s", p.name, t, p.ccgName, c.ret.CCGName))
		}
		seen[t] = true
	}
	if len(problems) > 0 {
		errs[FieldTargets] = strings.ToUpper(problems[0][:1]) + strings.Join(problems, "; ")[1:]
	} else if len(other) > 0 {
		errs[FieldOtherCCG] = strings.Join(other, "; ") + ": if the patients did move to another CCG's practice, confirm it"
	}
	return nil
}

// serviceOf resolves a service reference for a line about practice.
func (c *checker) serviceOf(refText, practice, field string, errs map[string]string) (*sim, error) {
	if strings.TrimSpace(refText) == "" {
		errs[field] = "Select the service the change is about"
		if field == FieldNewInstance {
			errs[field] = "Select the new service the practice moved to: a planned service of the practice"
		}
		return nil, nil
	}
	id, refPractice, ok := ParseRef(refText)
	if !ok {
		errs[field] = fmt.Sprintf("%q is not a service id like SI12-A81001", refText)
		return nil, nil
	}
	s, err := c.instance(id)
	if err != nil {
		return nil, err
	}
	switch {
	case s == nil || s.inst.CCGCode != c.ret.CCGCode || s.inst.PracticeCode != refPractice:
		errs[field] = fmt.Sprintf("%s is not a service of %s", strings.ToUpper(refText), c.ret.CCGName)
		return nil, nil
	case s.inst.PracticeCode != practice:
		errs[field] = fmt.Sprintf("%s is a service of %s, not of %s", strings.ToUpper(refText), s.inst.PracticeName, practice)
		return nil, nil
	}
	return s, nil
}

func describe(s *sim) string { return s.inst.Ref() + " (" + s.inst.ItemName + ")" }

func stateWord(s *sim) string { return string(s.state) }

// goesLive is the service a line makes go live: an activation's, or a
// migration's new one.
func goesLive(in LineInput) string {
	switch in.Kind {
	case Activation:
		return in.Instance
	case Migration:
		return in.NewInstance
	}
	return ""
}

// kindVerb is what a line of the kind does to its service, for naming the
// line another contradicts ("SI12-A81001 already ceases in change 3").
var kindVerb = map[Kind]string{
	Activation: "goes live", Verification: "is verified", Cessation: "ceases", Migration: "is migrated from",
	Cancellation: "is cancelled", Correction: "has that date corrected", Merger: "merges", Split: "splits",
}

// contradiction says whether line a contradicts line b, which is change
// number nb of the return: the field of a that is wrong and why, naming b.
func contradiction(a, b LineInput, nb int) (string, string) {
	same := func(x, y string) bool { return x != "" && strings.EqualFold(x, y) }
	up := strings.ToUpper
	switch {
	case same(goesLive(a), goesLive(b)):
		field := FieldInstance
		if a.Kind == Migration {
			field = FieldNewInstance
		}
		return field, fmt.Sprintf("%s already goes live in change %d", up(goesLive(a)), nb)
	case a.Kind == b.Kind && a.Kind.Uses(FieldInstance) && same(a.Instance, b.Instance) && (a.Kind != Correction || a.Corrects == b.Corrects):
		return FieldInstance, fmt.Sprintf("%s already %s in change %d", up(a.Instance), kindVerb[a.Kind], nb)
	case (a.Kind == Merger || a.Kind == Split) && (b.Kind == Merger || b.Kind == Split) && same(a.Practice, b.Practice):
		return FieldTargets, fmt.Sprintf("%s already %s in change %d", a.Practice, kindVerb[b.Kind], nb)
	case a.Kind == Cancellation && b.Kind != Cancellation && (same(a.Instance, b.Instance) || same(a.Instance, b.NewInstance)):
		return FieldInstance, fmt.Sprintf("%s is changed in change %d, so it cannot also be cancelled", up(a.Instance), nb)
	case b.Kind == Cancellation && a.Kind != Cancellation && (same(a.Instance, b.Instance) || same(a.NewInstance, b.Instance)):
		field := FieldInstance
		if !same(a.Instance, b.Instance) {
			field = FieldNewInstance
		}
		return field, fmt.Sprintf("%s is cancelled in change %d, so it cannot also be changed", up(b.Instance), nb)
	}
	return "", ""
}
