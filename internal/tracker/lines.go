package tracker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// Kind is what a change line reports.
type Kind string

// The kinds of DOMAIN.md §6.
const (
	Activation   Kind = "activation"
	Verification Kind = "verification"
	Cessation    Kind = "cessation"
	Migration    Kind = "migration"
	Merger       Kind = "merger"
	Split        Kind = "split"
	Cancellation Kind = "cancellation"
	Correction   Kind = "correction"
)

// Kinds lists every kind, in the order forms offer them.
var Kinds = []Kind{Activation, Verification, Cessation, Migration, Merger, Split, Cancellation, Correction}

// Name is the kind in words.
func (k Kind) Name() string {
	switch k {
	case Activation:
		return "Activation (went live)"
	case Verification:
		return "Verification (M2)"
	case Cessation:
		return "Cessation"
	case Migration:
		return "Migration"
	case Merger:
		return "Merger"
	case Split:
		return "Split"
	case Cancellation:
		return "Cancellation"
	case Correction:
		return "Correction"
	}
	return string(k)
}

// Valid reports whether k is one of the kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// NeedsInstance reports whether the kind is about one service instance.
func (k Kind) NeedsInstance() bool { return k.Uses(FieldInstance) }

// Dates a correction may correct.
const (
	CorrectsActualM1  = "actual_m1"
	CorrectsM2        = "m2"
	CorrectsCessation = "cessation"
)

// Line is one change reported in a return.
type Line struct {
	ID             int64
	Kind           Kind
	PracticeCode   string
	PracticeName   string
	InstanceID     *int64
	InstanceRef    string
	ItemName       string
	NewInstanceID  *int64
	NewInstanceRef string
	Targets        []string
	// OtherCCGConfirmed: the buyer confirmed a receiving practice of
	// another CCG.
	OtherCCGConfirmed bool
	Corrects          string
	Date              time.Time
	Note              string
	ReviewerComment   string
	CarriedFrom       *int64
	// Requested is true for a date after the period: the line changes
	// nothing yet and comes back next month for its actual date.
	Requested bool
}

const lineColumns = `
	l.id, l.kind, l.practice_code, pr.name, l.instance_id, coalesce(ci.name, ''), l.new_instance_id,
	l.target_practices, l.other_ccg_confirmed, coalesce(l.corrects, ''), l.effective_date, l.note, l.reviewer_comment, l.carried_from`

const lineFrom = `
	FROM return_lines l
	JOIN practices pr ON pr.code = l.practice_code
	LEFT JOIN service_instances si ON si.id = l.instance_id
	LEFT JOIN catalogue_items ci ON ci.id = si.catalogue_item_id`

// scanLine reads a line; last is the last day of its return's period,
// after which its date makes it a requested change.
func scanLine(row pgx.CollectableRow, last func(Line) time.Time) (Line, error) {
	return scanLineAnd(row, last)
}

// scanLineAnd is scanLine, reading the columns a query adds after
// lineColumns into more.
func scanLineAnd(row pgx.CollectableRow, last func(Line) time.Time, more ...any) (Line, error) {
	var l Line
	err := row.Scan(append([]any{&l.ID, &l.Kind, &l.PracticeCode, &l.PracticeName, &l.InstanceID, &l.ItemName, &l.NewInstanceID,
		&l.Targets, &l.OtherCCGConfirmed, &l.Corrects, &l.Date, &l.Note, &l.ReviewerComment, &l.CarriedFrom}, more...)...)
	if l.InstanceID != nil {
		l.InstanceRef = ref(*l.InstanceID, l.PracticeCode)
	}
	if l.NewInstanceID != nil {
		l.NewInstanceRef = ref(*l.NewInstanceID, l.PracticeCode)
	}
	l.Requested = l.Date.After(last(l))
	return l, err
}

func lines(ctx context.Context, db postgres.Querier, returnID int64, p Period) ([]Line, error) {
	rows, err := db.Query(ctx, `SELECT `+lineColumns+lineFrom+` WHERE l.return_id = $1 ORDER BY l.id`, returnID)
	if err != nil {
		return nil, fmt.Errorf("lines of return %d: %w", returnID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Line, error) {
		return scanLine(row, func(Line) time.Time { return p.Last() })
	})
}

func ref(id int64, practice string) string { return "SI" + strconv.FormatInt(id, 10) + "-" + practice }

// ParseRef reads a service instance id as people see it (SI12-A81001),
// returning the id and the practice it names.
func ParseRef(s string) (int64, string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	rest, ok := strings.CutPrefix(s, "SI")
	if !ok {
		return 0, "", false
	}
	num, practice, ok := strings.Cut(rest, "-")
	id, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id <= 0 || practice == "" {
		return 0, "", false
	}
	return id, practice, true
}
