// Package procurement owns a CCG's procurements (DOMAIN.md §3): the steps
// of the guidance from Prepare (procedure and weighted evaluation criteria)
// through Review Catalogue Solutions (a shortlist), Evaluate (scores and
// the weighted ranking) and the contract award (which becomes a call-off
// order) to Manage your contract. Each step records who completed it and
// when; a step cannot be completed before the step it needs, and every
// change carries the version the person saw, so two people working on the
// same procurement never overwrite each other.
package procurement

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/order"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Procedure is how the CCG will choose its supplier.
type Procedure string

// The procedures of the guidance.
const (
	DirectAward           Procedure = "direct_award"
	FurtherCompetitionOn  Procedure = "further_competition_on"
	FurtherCompetitionOff Procedure = "further_competition_off"
	NoProcedure           Procedure = "" // not chosen yet
)

const (
	maxNameLength          = 200 // procurements.name
	descriptionLimit       = 500 // orders.description
	entityType             = "procurement"
	procurementNotFoundMsg = "No procurement has the number %d."
)

// Procedures lists the procedures in the order the Prepare form offers them.
var Procedures = []Procedure{DirectAward, FurtherCompetitionOn, FurtherCompetitionOff}

// Name is the procedure in words.
func (p Procedure) Name() string {
	switch p {
	case DirectAward:
		return "Direct Award"
	case FurtherCompetitionOn:
		return "Further Competition (on-catalogue)"
	case FurtherCompetitionOff:
		return "Further Competition (off-catalogue)"
	case NoProcedure:
		return "Not chosen yet"
	}
	return string(p)
}

func (p Procedure) valid() bool {
	for _, v := range Procedures {
		if p == v {
			return true
		}
	}
	return false
}

// Field names of the procurement forms, the keys of field errors.
const (
	FieldName      = "name"
	FieldCCG       = "ccg"
	FieldProcedure = "procedure"
	// FieldCriteria is the criteria as a whole: none given, or weights
	// that do not add up to 100.
	FieldCriteria = "criteria"
	FieldItem     = "item"
	FieldWinner   = "winner"
	// The award's order details use the order form's own field names.
	FieldCommencement  = order.FieldCommencement
	FieldInitialPeriod = order.FieldInitialPeriod
	FieldMaximumTerm   = order.FieldMaximumTerm
)

// FieldCriterionName is the name field of row n (from 1) of the criteria.
func FieldCriterionName(n int) string { return fmt.Sprintf("criterion-%d-name", n) }

// FieldCriterionWeight is the weight field of row n (from 1) of the criteria.
func FieldCriterionWeight(n int) string { return fmt.Sprintf("criterion-%d-weight", n) }

// FieldScore is the score field of one solution against one criterion.
func FieldScore(itemID string, criterionID int64) string {
	return fmt.Sprintf("score-%s-%d", itemID, criterionID)
}

// Sentinel causes inside the *apperr.Error values this package returns,
// so callers and tests can tell the refusals apart with errors.Is.
var (
	// ErrChanged: the procurement moved on since the person loaded it.
	ErrChanged = errors.New("procurement changed")
	// ErrStepOrder: the step it needs is not completed yet.
	ErrStepOrder = errors.New("step before the step it needs")
	// ErrStepClosed: a later step that relies on this one is completed,
	// or the step is final and already completed.
	ErrStepClosed = errors.New("step closed")
	// ErrStepSkipped: Evaluate under a Direct Award.
	ErrStepSkipped = errors.New("step skipped")
)

func errChanged(id int64) error {
	return &apperr.Error{Code: apperr.Conflict, Err: ErrChanged, Message: fmt.Sprintf(
		"Procurement %d was changed by someone else while you were working on it. Check the procurement as it is now, then make your change again.", id)}
}

func errNotFound(id int64) error {
	return apperr.New(apperr.NotFound, procurementNotFoundMsg, id)
}

func invalid(msg string, fields map[string]string) error {
	return &apperr.Error{Code: apperr.Invalid, Message: msg, Fields: fields}
}

// Procurement is one procurement with its steps, criteria, shortlist and
// scores.
type Procurement struct {
	ID        int64
	CCGCode   string
	CCGName   string
	Name      string
	Procedure Procedure
	CreatedBy string
	CreatedAt time.Time
	Version   int
	Steps     []StepState // in the order of Steps
	Criteria  []Criterion // in the order they were entered
	Shortlist []Solution  // by name
	// Scores holds the scores entered so far.
	Scores map[ScoreKey]int
	// The order the award created: nil before the award, set in the same
	// transaction that completes the award step.
	OrderID *int64
	// CallOffID is the linked order revision; LatestCallOffID its latest
	// revision (an amendment, once there is one).
	CallOffID       string
	LatestCallOffID string
	OrderNumber     int // of the linked order; 0 when there is none
	// OrderStatus is the linked revision's status; LatestOrderStatus the
	// latest revision's, which is what a person is shown.
	OrderStatus       order.Status
	LatestOrderStatus order.Status
	// WinnerID is the shortlisted solution on the linked order, "" when none.
	WinnerID string
}

// Criterion is one evaluation criterion with its weight (1-100; together
// the weights make 100).
type Criterion struct {
	ID     int64
	Name   string
	Weight int
}

// Solution is a Catalogue Solution on the shortlist.
type Solution struct {
	ItemID       string
	Name         string
	SupplierID   string
	SupplierName string
}

// ScoreKey is one cell of the evaluation: a solution against a criterion.
type ScoreKey struct {
	ItemID      string
	CriterionID int64
}

// OrderSigned reports whether the linked order has been completed (it may
// since have been amended or terminated).
func (p Procurement) OrderSigned() bool {
	return p.OrderID != nil && p.OrderStatus != "" && p.OrderStatus != order.InProgress
}

// Solution returns the shortlisted solution with the item id.
func (p Procurement) Solution(itemID string) (Solution, bool) {
	for _, s := range p.Shortlist {
		if s.ItemID == itemID {
			return s, true
		}
	}
	return Solution{}, false
}

// Get returns one procurement, or NotFound when it does not exist or its
// CCG is outside the scope.
func Get(ctx context.Context, db postgres.Querier, scope org.Scope, id int64) (Procurement, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `
		SELECT p.id, p.ccg_code, c.name, p.name, coalesce(p.procedure, ''), coalesce(u.name, ''), p.created_at, p.version,
		       p.order_id, coalesce(o.order_number, 0), coalesce(o.call_off_id, ''), coalesce(o.status, ''),
		       coalesce((SELECT l.call_off_id FROM orders l WHERE l.order_number = o.order_number ORDER BY l.revision DESC LIMIT 1), ''),
		       coalesce((SELECT l.status FROM orders l WHERE l.order_number = o.order_number ORDER BY l.revision DESC LIMIT 1), ''),
		       coalesce((SELECT oi.catalogue_item_id FROM order_items oi
		                 JOIN procurement_shortlist s ON s.item_id = oi.catalogue_item_id AND s.procurement_id = p.id
		                 WHERE oi.order_id = p.order_id ORDER BY oi.id LIMIT 1), '')
		FROM procurements p
		JOIN ccgs c ON c.code = p.ccg_code
		LEFT JOIN users u ON u.id = p.created_by
		LEFT JOIN orders o ON o.id = p.order_id
		WHERE p.id = $1 AND ($2 OR p.ccg_code = $3)`, id, all, ccg)
	if err != nil {
		return Procurement{}, fmt.Errorf("get procurement %d: %w", id, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Procurement, error) {
		var p Procurement
		err := row.Scan(&p.ID, &p.CCGCode, &p.CCGName, &p.Name, &p.Procedure, &p.CreatedBy, &p.CreatedAt, &p.Version,
			&p.OrderID, &p.OrderNumber, &p.CallOffID, &p.OrderStatus, &p.LatestCallOffID, &p.LatestOrderStatus, &p.WinnerID)
		return p, err
	})
	if err != nil {
		return Procurement{}, postgres.NotFound(err, procurementNotFoundMsg, id)
	}
	if err := p.load(ctx, db); err != nil {
		return Procurement{}, err
	}
	return p, nil
}

// load reads the steps, criteria, shortlist and scores.
func (p *Procurement) load(ctx context.Context, db postgres.Querier) error {
	rows, err := db.Query(ctx, `
		SELECT s.step, s.status, coalesce(u.name, ''), s.completed_at
		FROM procurement_steps s LEFT JOIN users u ON u.id = s.completed_by
		WHERE s.procurement_id = $1`, p.ID)
	if err != nil {
		return fmt.Errorf("steps of procurement %d: %w", p.ID, err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[StepState])
	if err != nil {
		return fmt.Errorf("steps of procurement %d: %w", p.ID, err)
	}
	byStep := map[Step]StepState{}
	for _, s := range got {
		byStep[s.Step] = s
	}
	p.Steps = make([]StepState, len(Steps))
	for i, s := range Steps {
		st, ok := byStep[s]
		if !ok {
			st = StepState{Step: s, Status: NotStarted}
		}
		p.Steps[i] = st
	}

	rows, err = db.Query(ctx, `SELECT id, name, weight FROM procurement_criteria WHERE procurement_id = $1 ORDER BY position, id`, p.ID)
	if err != nil {
		return fmt.Errorf("criteria of procurement %d: %w", p.ID, err)
	}
	if p.Criteria, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Criterion]); err != nil {
		return fmt.Errorf("criteria of procurement %d: %w", p.ID, err)
	}

	rows, err = db.Query(ctx, `
		SELECT i.id, i.name, i.supplier_id, s.name
		FROM procurement_shortlist sl
		JOIN catalogue_items i ON i.id = sl.item_id
		JOIN suppliers s ON s.id = i.supplier_id
		WHERE sl.procurement_id = $1
		ORDER BY i.name, i.id`, p.ID)
	if err != nil {
		return fmt.Errorf("shortlist of procurement %d: %w", p.ID, err)
	}
	if p.Shortlist, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Solution]); err != nil {
		return fmt.Errorf("shortlist of procurement %d: %w", p.ID, err)
	}

	p.Scores = map[ScoreKey]int{}
	rows, err = db.Query(ctx, `SELECT item_id, criterion_id, score FROM procurement_scores WHERE procurement_id = $1`, p.ID)
	if err != nil {
		return fmt.Errorf("scores of procurement %d: %w", p.ID, err)
	}
	var k ScoreKey
	var score int
	if _, err := pgx.ForEachRow(rows, []any{&k.ItemID, &k.CriterionID, &score}, func() error {
		p.Scores[k] = score
		return nil
	}); err != nil {
		return fmt.Errorf("scores of procurement %d: %w", p.ID, err)
	}
	return nil
}

// Summary is one procurement in the list.
type Summary struct {
	ID        int64
	Name      string
	CCGCode   string
	CCGName   string
	Procedure Procedure
	// NextStep is the first step not yet completed or skipped; "" when
	// every step is done.
	NextStep  Step
	CreatedAt time.Time
}

// List returns one page of the procurements in scope, newest first.
func List(ctx context.Context, db postgres.Querier, scope org.Scope, page paging.Page) (paging.Result[Summary], error) {
	all, ccg := scope.SQLArgs()
	res, err := postgres.Paged(ctx, db, page, `p.id, p.name, p.ccg_code, c.name, coalesce(p.procedure, ''),
		coalesce((SELECT s.step FROM procurement_steps s WHERE s.procurement_id = p.id AND s.status = 'not_started'
		          ORDER BY array_position(ARRAY['prepare', 'review', 'evaluate', 'award', 'manage'], s.step) LIMIT 1), ''),
		p.created_at`, `
		FROM procurements p JOIN ccgs c ON c.code = p.ccg_code
		WHERE ($1 OR p.ccg_code = $2)`, `p.created_at DESC, p.id DESC`, pgx.RowToStructByPos[Summary], all, ccg)
	if err != nil {
		return res, fmt.Errorf("list procurements: %w", err)
	}
	return res, nil
}

// Create starts a procurement for a CCG, every step not started. A buyer
// may start one only for their own CCG (the scope); a reviewer for any.
func (s *Store) Create(ctx context.Context, a org.Actor, ccgCode, name string) (Procurement, error) {
	now := s.now()
	name = strings.TrimSpace(name)
	ccgCode = strings.ToUpper(strings.TrimSpace(ccgCode))
	errs := map[string]string{}
	switch {
	case name == "":
		errs[FieldName] = "Enter a name for the procurement"
	case len([]rune(name)) > maxNameLength:
		errs[FieldName] = fmt.Sprintf("Name must be %d characters or fewer", maxNameLength)
	}
	switch {
	case ccgCode == "":
		errs[FieldCCG] = "Select the CCG the procurement is for"
	case !a.Scope.Allows(ccgCode):
		errs[FieldCCG] = "Select a CCG you procure for"
	}
	if len(errs) > 0 {
		return Procurement{}, invalid("The procurement could not be started", errs)
	}
	var id int64
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM ccgs WHERE code = $1 AND active)`, ccgCode).Scan(&ok); err != nil {
			return fmt.Errorf("check CCG: %w", err)
		}
		if !ok {
			return apperr.Invalidf(FieldCCG, "Select a CCG from the list")
		}
		if err := tx.QueryRow(ctx, `
			INSERT INTO procurements (ccg_code, name, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			ccgCode, name, a.ID, now).Scan(&id); err != nil {
			return fmt.Errorf("create procurement: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO procurement_steps (procurement_id, step) SELECT $1, unnest($2::text[])`, id, stepNames()); err != nil {
			return fmt.Errorf("create procurement steps: %w", err)
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "procurement.create",
			EntityType: entityType,
			EntityID:   strconv.FormatInt(id, 10),
			After:      map[string]any{"ccg": ccgCode, "name": name},
		})
	})
	if err != nil {
		return Procurement{}, err
	}
	return Get(ctx, s.pool, a.Scope, id)
}

// edit runs fn on the procurement, locked, after checking that nobody
// changed it since version; the version then moves on, all in one
// transaction with whatever fn writes and audits.
func (s *Store) edit(ctx context.Context, scope org.Scope, id int64, version int, fn func(pgx.Tx, Procurement) error) error {
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := lock(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if p.Version != version {
			return errChanged(id)
		}
		if err := fn(tx, p); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE procurements SET version = version + 1 WHERE id = $1`, id)
		return err
	})
}

// lock reads a procurement in scope FOR UPDATE: whoever locks second
// waits, then sees the first one's change and version.
func lock(ctx context.Context, tx pgx.Tx, scope org.Scope, id int64) (Procurement, error) {
	all, ccg := scope.SQLArgs()
	tag, err := tx.Exec(ctx, `SELECT 1 FROM procurements WHERE id = $1 AND ($2 OR ccg_code = $3) FOR UPDATE`, id, all, ccg)
	if err != nil {
		return Procurement{}, fmt.Errorf("lock procurement %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return Procurement{}, errNotFound(id)
	}
	return Get(ctx, tx, scope, id)
}

func record(ctx context.Context, tx pgx.Tx, now time.Time, actorID *int64, action string, id int64, before, after any) error {
	return audit.Record(ctx, tx, audit.Event{
		At:         now,
		By:         actorID,
		Action:     action,
		EntityType: entityType,
		EntityID:   strconv.FormatInt(id, 10),
		Before:     before,
		After:      after,
	})
}
