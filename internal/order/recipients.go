package order

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/dates"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
	"ccgtracker/internal/upload"
)

// FieldPractices is the key of errors about the set of recipients.
const FieldPractices = "practices"

// FieldQuantity and FieldDelivery are the keys of one recipient's fields.
func FieldQuantity(practice string) string { return "quantity-" + practice }

// FieldDelivery is the key of a recipient's planned delivery date.
func FieldDelivery(practice string) string { return "delivery-" + practice }

// MaxQuantity bounds a quantity to catch a slip of the keyboard.
const MaxQuantity = 10_000_000

// RecipientInput is one practice as the person entered it.
type RecipientInput struct {
	Practice        string
	Quantity        *int       // nil: the default (list size per patient, else 1)
	PlannedDelivery *time.Time // may be left for later; required to complete
}

type practiceFacts struct {
	name     string
	ccg      string
	status   string
	listSize *int
}

func practicesByCode(ctx context.Context, db postgres.Querier, codes []string) (map[string]practiceFacts, error) {
	rows, err := db.Query(ctx, `SELECT code, name, ccg_code, status, list_size FROM practices WHERE code = ANY($1)`, codes)
	if err != nil {
		return nil, fmt.Errorf("read practices: %w", err)
	}
	out := map[string]practiceFacts{}
	var code string
	var p practiceFacts
	_, err = pgx.ForEachRow(rows, []any{&code, &p.name, &p.ccg, &p.status, &p.listSize}, func() error {
		out[code] = p
		return nil
	})
	return out, err
}

// SaveRecipients sets the practices that receive an item in this revision,
// each with its quantity and planned delivery date, replacing what this
// revision had. Practices ordered in an earlier revision stay as they were.
// Every problem is reported and nothing is saved unless all is well.
func (s *Store) SaveRecipients(ctx context.Context, a org.Actor, callOffID string, version int, orderItemID int64, inputs []RecipientInput) error {
	now := s.now()
	return s.edit(ctx, a.Scope, callOffID, version, func(tx pgx.Tx, o Order) error {
		it, ok := itemOf(o, orderItemID)
		if !ok {
			return apperr.New(apperr.NotFound, "That item is not on order %s.", callOffID)
		}
		rows, errs, err := checkRecipients(ctx, tx, o, it, inputs)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return invalid("The service recipients could not be saved", errs)
		}
		earlier := len(it.Recipients) - countAdded(it, o.Revision)
		if _, err := tx.Exec(ctx, `DELETE FROM order_recipients WHERE order_item_id = $1 AND added_in_revision = $2`, orderItemID, o.Revision); err != nil {
			return fmt.Errorf("replace recipients: %w", err)
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, `
				INSERT INTO order_recipients (order_item_id, practice_code, quantity, planned_delivery_date, added_in_revision)
				VALUES ($1, $2, $3, $4, $5)`, orderItemID, r.code, r.quantity, r.date, o.Revision); err != nil {
				return fmt.Errorf("add recipient %s: %w", r.code, err)
			}
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "order.set_recipients",
			EntityType: "order",
			EntityID:   callOffID,
			Before:     map[string]any{"item": it.CatalogueItemID, "recipients": len(it.Recipients) - earlier},
			After:      map[string]any{"item": it.CatalogueItemID, "recipients": len(rows)},
		})
	})
}

var odsPracticePattern = regexp.MustCompile(`^[A-Z][0-9]{5}$`)

// ParseRecipientCSV reads a CSV of practice ODS codes, one per row in the
// first column; a first row that is not a code is taken as a header. It
// returns the codes and what is wrong with each bad row.
func ParseRecipientCSV(r io.Reader) ([]string, []string) {
	// The server bounds the file's size; the cells of a row are bounded
	// here, before encoding/csv builds the row, so that a line of a
	// million commas is refused rather than read.
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, []string{"The file could not be read: upload it again"}
	}
	switch line, problem := upload.CheckCSV(data, ',', upload.MaxCells); problem {
	case upload.TooWide:
		return nil, []string{fmt.Sprintf("Row %d has more than %d cells: the file should have one practice ODS code a row", line, upload.MaxCells)}
	case upload.TooLong:
		return nil, []string{fmt.Sprintf("Row %d is far longer than a practice ODS code: the file should have one code a row", line)}
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var codes, problems []string
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var perr *csv.ParseError
			line := 0
			if errors.As(err, &perr) {
				line = perr.StartLine
			}
			problems = append(problems, fmt.Sprintf("Row %d is not valid CSV", line))
			break
		}
		line, _ := cr.FieldPos(0)
		code := strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")))
		switch {
		case code == "" && len(rec) == 1:
			continue
		case odsPracticePattern.MatchString(code):
			codes = append(codes, code)
		case first:
			continue // a header such as "ODS code"
		default:
			problems = append(problems, fmt.Sprintf("Row %d: %q is not a practice ODS code (a letter and 5 numbers, like A81001)", line, rec[0]))
		}
		if len(problems) >= 100 {
			break
		}
	}
	if len(codes) == 0 && len(problems) == 0 {
		problems = append(problems, "The file has no practice ODS codes")
	}
	return codes, problems
}

// CheckPractices sorts codes into those of the CCG and the problems with
// the rest (unknown codes, other CCGs' practices, closed practices).
func CheckPractices(ctx context.Context, db postgres.Querier, ccgCode string, codes []string) ([]string, []string, error) {
	facts, err := practicesByCode(ctx, db, codes)
	if err != nil {
		return nil, nil, err
	}
	var ok, problems []string
	seen := map[string]bool{}
	for _, c := range codes {
		p, known := facts[c]
		switch {
		case seen[c]:
			continue
		case !known:
			problems = append(problems, fmt.Sprintf("%s is not a known practice", c))
		case p.ccg != ccgCode:
			// Not named: another CCG's practice is hidden from this CCG's
			// buyers everywhere else (its page is a 404).
			problems = append(problems, fmt.Sprintf("%s belongs to another CCG", c))
		case p.status != "A":
			problems = append(problems, fmt.Sprintf("%s (%s) is not open", c, p.name))
		default:
			ok = append(ok, c)
		}
		seen[c] = true
	}
	return ok, problems, nil
}

type recipientRow struct {
	code     string
	quantity int
	date     *time.Time
}

func countAdded(it Item, revision int) int {
	n := 0
	for _, r := range it.Recipients {
		if r.AddedInRevision == revision {
			n++
		}
	}
	return n
}

// CheckRecipients says what is wrong with recipients for an item without
// saving anything (an Invalid error, or nil), so a form with problems of
// its own (a date that does not exist) can still show every other problem
// at once.
func CheckRecipients(ctx context.Context, db postgres.Querier, o Order, orderItemID int64, inputs []RecipientInput) error {
	it, ok := itemOf(o, orderItemID)
	if !ok {
		return apperr.New(apperr.NotFound, "That item is not on order %s.", o.CallOffID())
	}
	_, errs, err := checkRecipients(ctx, db, o, it, inputs)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return invalid("The service recipients could not be saved", errs)
	}
	return nil
}

func checkRecipients(ctx context.Context, db postgres.Querier, o Order, it Item, inputs []RecipientInput) ([]recipientRow, map[string]string, error) {
	earlier := map[string]bool{}
	for _, r := range it.Recipients {
		if r.AddedInRevision < o.Revision {
			earlier[r.PracticeCode] = true
		}
	}
	codes := make([]string, len(inputs))
	for i := range inputs {
		inputs[i].Practice = strings.ToUpper(strings.TrimSpace(inputs[i].Practice))
		codes[i] = inputs[i].Practice
	}
	facts, err := practicesByCode(ctx, db, codes)
	if err != nil {
		return nil, nil, err
	}
	errs := map[string]string{}
	var problems []string
	seen := map[string]bool{}
	var rows []recipientRow
	for _, in := range inputs {
		p, known := facts[in.Practice]
		switch {
		case !known:
			problems = append(problems, fmt.Sprintf("%s is not a practice", in.Practice))
			continue
		case p.ccg != o.CCGCode:
			// Not named: another CCG's practice is hidden from this
			// CCG's buyers everywhere else (its page is a 404).
			problems = append(problems, fmt.Sprintf("%s is not a practice of %s", in.Practice, o.CCGName))
			continue
		case seen[in.Practice]:
			problems = append(problems, fmt.Sprintf("%s (%s) is picked more than once", p.name, in.Practice))
			continue
		case earlier[in.Practice]:
			problems = append(problems, fmt.Sprintf("%s (%s) was ordered in an earlier revision", p.name, in.Practice))
			continue
		case p.status != "A":
			problems = append(problems, fmt.Sprintf("%s (%s) is not open, so it cannot receive services", p.name, in.Practice))
			continue
		}
		seen[in.Practice] = true
		q := 1
		switch {
		case in.Quantity != nil:
			q = *in.Quantity
		case it.PerPatient() && p.listSize != nil:
			q = *p.listSize
		case it.PerPatient():
			errs[FieldQuantity(in.Practice)] = fmt.Sprintf("Enter the number of patients at %s: its list size is not known", p.name)
		}
		switch {
		case q < 1:
			errs[FieldQuantity(in.Practice)] = fmt.Sprintf("Quantity for %s must be 1 or more", p.name)
		case q > MaxQuantity:
			errs[FieldQuantity(in.Practice)] = fmt.Sprintf("Quantity for %s must be %d or fewer", p.name, MaxQuantity)
		}
		if d := in.PlannedDelivery; d != nil && (d.Before(o.Commencement) || d.After(o.EndDate())) {
			errs[FieldDelivery(in.Practice)] = fmt.Sprintf("Planned delivery date for %s must be between %s and %s, the order's term",
				p.name, dates.Long(o.Commencement), dates.Long(o.EndDate()))
		}
		rows = append(rows, recipientRow{in.Practice, q, in.PlannedDelivery})
	}
	if len(problems) > 0 {
		errs[FieldPractices] = strings.Join(problems, "; ")
	}
	return rows, errs, nil
}
