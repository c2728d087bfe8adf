package ledger

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
	"ccgtracker/internal/dates"
	"ccgtracker/internal/money"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Agreement is a Continuity Call-Off Agreement (DOMAIN.md §4): one per CCG
// per supplier, continuing the services its practices already had.
type Agreement struct {
	ID           int64
	CCGCode      string
	CCGName      string
	SupplierID   string
	SupplierName string
	StartDate    time.Time
	// Services counts its planned and active service instances: the ones
	// still in force.
	Services int
}

const agreementSelect = `
	SELECT a.id, a.ccg_code, c.name, a.supplier_id, s.name, a.start_date,
	       (SELECT count(*) FROM service_instances si
	        WHERE si.agreement_id = a.id AND si.state IN ('planned', 'active'))
	FROM continuity_agreements a
	JOIN ccgs c ON c.code = a.ccg_code
	JOIN suppliers s ON s.id = a.supplier_id`

func scanAgreement(row pgx.CollectableRow) (Agreement, error) {
	var a Agreement
	err := row.Scan(&a.ID, &a.CCGCode, &a.CCGName, &a.SupplierID, &a.SupplierName, &a.StartDate, &a.Services)
	return a, err
}

// ListAgreements returns a CCG's agreements by supplier name; none when the
// CCG is outside the scope.
func ListAgreements(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string) ([]Agreement, error) {
	if !scope.Allows(ccgCode) {
		return nil, nil
	}
	rows, err := db.Query(ctx, agreementSelect+` WHERE a.ccg_code = $1 ORDER BY s.name, a.id`, ccgCode)
	if err != nil {
		return nil, fmt.Errorf("agreements of %s: %w", ccgCode, err)
	}
	list, err := pgx.CollectRows(rows, scanAgreement)
	if err != nil {
		return nil, fmt.Errorf("agreements of %s: %w", ccgCode, err)
	}
	return list, nil
}

// GetAgreement returns one agreement of a CCG. It is NotFound when the CCG
// is outside the scope or the agreement is another CCG's, so that a URL
// naming one CCG cannot reach another's agreement.
func GetAgreement(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, id int64) (Agreement, error) {
	return getAgreement(ctx, db, scope, ccgCode, id, "")
}

func getAgreement(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, id int64, lock string) (Agreement, error) {
	if !scope.Allows(ccgCode) {
		return Agreement{}, apperr.New(apperr.NotFound, "No such continuity agreement.")
	}
	rows, err := db.Query(ctx, agreementSelect+` WHERE a.id = $1 AND a.ccg_code = $2 `+lock, id, ccgCode)
	if err != nil {
		return Agreement{}, fmt.Errorf("get agreement %d: %w", id, err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAgreement)
	if err != nil {
		return Agreement{}, postgres.NotFound(err, "No such continuity agreement.")
	}
	return a, nil
}

// ListAgreementServices returns one page of an agreement's service
// instances, in every state, by practice then item.
func ListAgreementServices(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, agreementID int64, page paging.Page) (paging.Result[Instance], error) {
	if !scope.Allows(ccgCode) {
		return paging.Result[Instance]{Page: page}, nil
	}
	res, err := postgres.Paged(ctx, db, page, instanceColumns, instanceFrom+`
		WHERE si.ccg_code = $1 AND si.agreement_id = $2`, `p.name, si.practice_code, ci.name, si.id`, scanInstance,
		ccgCode, agreementID)
	if err != nil {
		return res, fmt.Errorf("services of agreement %d: %w", agreementID, err)
	}
	return res, nil
}

// PricingUnitDescription is how people read a snapshotted pricing unit
// ("per patient"); the snapshot keeps the unit's name ("patient").
func PricingUnitDescription(ctx context.Context, db postgres.Querier, unit string) (string, error) {
	var desc string
	err := db.QueryRow(ctx, `SELECT description FROM pricing_units WHERE name = $1 AND description <> '' ORDER BY id LIMIT 1`, unit).Scan(&desc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "per " + unit, nil
	}
	if err != nil {
		return "", fmt.Errorf("pricing unit %s: %w", unit, err)
	}
	return desc, nil
}

// invalid is a form's field errors as one Invalid error; its message is the
// first problem in the form's order.
func invalid(fields map[string]string, order ...string) error {
	e := &apperr.Error{Code: apperr.Invalid, Fields: fields}
	for _, f := range order {
		if msg, ok := fields[f]; ok {
			e.Message = msg
			break
		}
	}
	return e
}

// itemPrice is a catalogue item with the price a continuity service
// snapshots: the item's first price by id.
type itemPrice struct {
	id, name, supplierID, supplierName string
	hasPrice                           bool
	perPatient                         bool
}

const itemPriceSelect = `
	SELECT ci.id, ci.name, ci.supplier_id, s.name, cp.id IS NOT NULL, coalesce(pu.name ILIKE '%patient%', false)
	FROM catalogue_items ci
	JOIN suppliers s ON s.id = ci.supplier_id
	LEFT JOIN LATERAL (SELECT id, pricing_unit_id FROM catalogue_prices WHERE item_id = ci.id ORDER BY id LIMIT 1) cp ON true
	LEFT JOIN pricing_units pu ON pu.id = cp.pricing_unit_id`

func scanItemPrice(row pgx.CollectableRow) (itemPrice, error) {
	var it itemPrice
	err := row.Scan(&it.id, &it.name, &it.supplierID, &it.supplierName, &it.hasPrice, &it.perPatient)
	return it, err
}

// practiceFacts is what the continuity rules need of a practice.
type practiceFacts struct {
	code, name, ccgCode string
	listSize            int // 0 when not known
}

func readPractices(ctx context.Context, db postgres.Querier, codes []string) (map[string]practiceFacts, error) {
	rows, err := db.Query(ctx, `SELECT code, name, ccg_code, coalesce(list_size, 0) FROM practices WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, fmt.Errorf("read practices: %w", err)
	}
	out := map[string]practiceFacts{}
	var p practiceFacts
	_, err = pgx.ForEachRow(rows, []any{&p.code, &p.name, &p.ccgCode, &p.listSize}, func() error {
		out[p.code] = p
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read practices: %w", err)
	}
	return out, nil
}

// The fields of a reviewer's changes to an agreement, by meaning, as
// their problems are keyed: the practice, item and start of a service to
// add (AgreementService), and the practice and date of a cancellation
// (Cancellation). The server maps them to its forms' inputs.
const (
	FieldPractice       = "practice"
	FieldItem           = "item"
	FieldStart          = "start"
	FieldCancelPractice = "cancel-practice"
	FieldCancelDate     = "cancel-date"
)

// AgreementService is a service to add to an agreement: a practice of the
// agreement's CCG (its ODS code), the catalogue item, and the date it has
// been active from (the zero time: none was given).
type AgreementService struct {
	Practice, Item string
	Start          time.Time
}

// Cancellation is a practice stopping its services under an agreement:
// its ODS code and the date they end (the zero time: none was given).
type Cancellation struct {
	Practice string
	Date     time.Time
}

// practiceOfCCG checks the practice a form names against the agreement's
// CCG, returning what is wrong in words ("" when nothing is).
func practiceOfCCG(ctx context.Context, db postgres.Querier, a Agreement, code string) (practiceFacts, string, error) {
	if code == "" {
		return practiceFacts{}, "Enter the practice's ODS code", nil
	}
	ps, err := readPractices(ctx, db, []string{code})
	if err != nil {
		return practiceFacts{}, "", err
	}
	p, ok := ps[code]
	switch {
	case !ok:
		return p, fmt.Sprintf("No practice has the ODS code %s", code), nil
	case p.ccgCode != a.CCGCode:
		return p, fmt.Sprintf("%s is not a practice of %s", code, a.CCGName), nil
	}
	return p, "", nil
}

// AddAgreementService adds one service to an agreement of a CCG in the
// actor's scope, for a practice of that CCG, active from its start (actual
// M1 = M2 = start), with its price snapshotted from the catalogue, in one
// transaction with its history and an audit record. The item must be the
// agreement supplier's and not already planned or active for the practice
// in the agreement; the start may be neither before the agreement's start
// nor after today. It returns the service added.
func (s *Store) AddAgreementService(ctx context.Context, by org.Actor, ccgCode string, agreementID int64, in AgreementService) (Instance, error) {
	now := s.now()
	practice := strings.ToUpper(strings.TrimSpace(in.Practice))
	item := strings.ToUpper(strings.TrimSpace(in.Item))
	start := in.Start
	var inst Instance
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		// Locking the agreement makes "not already present" hold until commit.
		a, err := getAgreement(ctx, tx, by.Scope, ccgCode, agreementID, "FOR UPDATE OF a")
		if err != nil {
			return err
		}
		fields := map[string]string{}
		p, problem, err := practiceOfCCG(ctx, tx, a, practice)
		if err != nil {
			return err
		}
		if problem != "" {
			fields[FieldPractice] = problem
		}

		var it itemPrice
		if item == "" {
			fields[FieldItem] = "Select a service"
		} else {
			rows, err := tx.Query(ctx, itemPriceSelect+` WHERE ci.id = $1`, item)
			if err != nil {
				return fmt.Errorf("read item %s: %w", item, err)
			}
			found, err := pgx.CollectRows(rows, scanItemPrice)
			if err != nil {
				return fmt.Errorf("read item %s: %w", item, err)
			}
			switch {
			case len(found) == 0:
				fields[FieldItem] = "Select a service from the list"
			case found[0].supplierID != a.SupplierID:
				fields[FieldItem] = fmt.Sprintf("%s is not a service of %s", found[0].name, a.SupplierName)
			case !found[0].hasPrice:
				fields[FieldItem] = fmt.Sprintf("%s has no catalogue price, so it cannot be added", found[0].name)
			default:
				it = found[0]
			}
		}

		given := !start.IsZero()
		start = dates.Of(start)
		switch today := dates.Today(now); {
		case !given:
			fields[FieldStart] = "Enter the start date"
		case start.Before(a.StartDate):
			fields[FieldStart] = "The start date must be on or after the agreement's start date, " + dates.Long(a.StartDate)
		case start.After(today):
			// A continuity agreement continues services practices have
			// already; a service still to come is ordered.
			fields[FieldStart] = "The start date must be today or in the past"
		}

		if fields[FieldPractice] == "" && it.id != "" {
			if it.perPatient && p.listSize == 0 {
				fields[FieldPractice] = fmt.Sprintf("%s has no list size on record, and %s is priced per patient", practice, it.name)
			}
			var present bool
			err := tx.QueryRow(ctx, `
				SELECT EXISTS (SELECT 1 FROM service_instances WHERE agreement_id = $1 AND practice_code = $2
				               AND catalogue_item_id = $3 AND state IN ('planned', 'active'))`, a.ID, practice, it.id).Scan(&present)
			if err != nil {
				return fmt.Errorf("read services of %s: %w", practice, err)
			}
			if present {
				fields[FieldItem] = fmt.Sprintf("%s already has %s in this agreement", practice, it.name)
			}
		}
		if len(fields) > 0 {
			return invalid(fields, FieldPractice, FieldItem, FieldStart)
		}

		var n NewInstance
		var price string
		err = tx.QueryRow(ctx, `
			SELECT cp.price::text, pu.name, coalesce(cp.time_unit, ''), pu.name ILIKE '%patient%'
			FROM catalogue_prices cp JOIN pricing_units pu ON pu.id = cp.pricing_unit_id
			WHERE cp.item_id = $1 ORDER BY cp.id LIMIT 1`, it.id).Scan(&price, &n.PricingUnit, &n.TimeUnit, &it.perPatient)
		if err != nil {
			return fmt.Errorf("price of %s: %w", it.id, err)
		}
		if n.UnitPrice, err = money.Parse(price); err != nil {
			return fmt.Errorf("price of %s: %w", it.id, err)
		}
		n.CCGCode, n.PracticeCode, n.ItemID, n.SupplierID, n.AgreementID = a.CCGCode, practice, it.id, a.SupplierID, &a.ID
		n.QuantityRule, n.Quantity = QuantityFixed, 1
		if it.perPatient {
			n.QuantityRule, n.Quantity = QuantityListSize, p.listSize
		}
		n.ActualM1, n.M2, n.State = &start, &start, Active
		ids, err := CreateTx(ctx, tx, now, by, "added to the continuity agreement", []NewInstance{n})
		if postgres.IsUniqueViolation(err) {
			// An import committed the same service since the check above.
			return apperr.New(apperr.Conflict, "%s already has %s in this agreement.", practice, it.name)
		}
		if err != nil {
			return err
		}
		if inst, err = get(ctx, tx, by.Scope, ids[0]); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         by.ID,
			Action:     "agreement.add_service",
			EntityType: "agreement",
			EntityID:   strconv.FormatInt(a.ID, 10),
			After: map[string]any{
				"instance": inst.Ref(), "practice": practice, "item": it.id, "start": start.Format(time.DateOnly),
			},
		})
	})
	if err != nil {
		return Instance{}, err
	}
	return inst, nil
}

// RecordAgreementCancellation records that a practice of the agreement's
// CCG (in the actor's scope) stops its services under the agreement:
// every planned or active instance of the practice in it gets the
// cessation date. A date today or earlier ends them now (active ones
// cease, planned ones are cancelled); a later one is applied by
// ApplyDueCessationsTx when it comes. The date may not be before the
// services started. One transaction, with history and an audit record; it
// returns how many instances it changed.
func (s *Store) RecordAgreementCancellation(ctx context.Context, by org.Actor, ccgCode string, agreementID int64, c Cancellation) (int, error) {
	now := s.now()
	practice := strings.ToUpper(strings.TrimSpace(c.Practice))
	given := !c.Date.IsZero()
	date := dates.Of(c.Date)
	changed := 0
	err := postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		a, err := getAgreement(ctx, tx, by.Scope, ccgCode, agreementID, "FOR UPDATE OF a")
		if err != nil {
			return err
		}
		fields := map[string]string{}
		_, problem, err := practiceOfCCG(ctx, tx, a, practice)
		if err != nil {
			return err
		}
		if problem != "" {
			fields[FieldCancelPractice] = problem
		}
		if !given {
			fields[FieldCancelDate] = "Enter the cancellation date"
		}
		var ids []int64
		if problem == "" {
			rows, err := tx.Query(ctx, `
				SELECT id, actual_m1 FROM service_instances
				WHERE agreement_id = $1 AND practice_code = $2 AND state IN ('planned', 'active')
				ORDER BY id FOR UPDATE`, a.ID, practice)
			if err != nil {
				return fmt.Errorf("services of %s: %w", practice, err)
			}
			var id int64
			var m1 *time.Time
			var latest time.Time
			if _, err := pgx.ForEachRow(rows, []any{&id, &m1}, func() error {
				ids = append(ids, id)
				if m1 != nil && m1.After(latest) {
					latest = *m1
				}
				return nil
			}); err != nil {
				return fmt.Errorf("services of %s: %w", practice, err)
			}
			switch {
			case len(ids) == 0:
				fields[FieldCancelPractice] = fmt.Sprintf("%s has no planned or active services in this agreement", practice)
			case fields[FieldCancelDate] == "" && date.Before(latest):
				fields[FieldCancelDate] = "The cancellation date must be on or after " + dates.Long(latest) + ", when the practice's services started"
			}
		}
		if len(fields) > 0 {
			return invalid(fields, FieldCancelPractice, FieldCancelDate)
		}

		endsNow := !date.After(dates.Today(now))
		refs := make([]string, 0, len(ids))
		for _, id := range ids {
			inst, err := ChangeTx(ctx, tx, now, by, id, "cancellation recorded", nil, func(i *Instance) error {
				d := date
				i.Cessation = &d
				if endsNow {
					if i.State == Active {
						i.State = Ceased
					} else {
						i.State = Cancelled
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			refs = append(refs, inst.Ref())
		}
		changed = len(ids)
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         by.ID,
			Action:     "agreement.cancel_practice",
			EntityType: "agreement",
			EntityID:   strconv.FormatInt(a.ID, 10),
			After: map[string]any{
				"practice": practice, "cessation_date": date.Format(time.DateOnly), "instances": refs, "ended_now": endsNow,
			},
		})
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}
