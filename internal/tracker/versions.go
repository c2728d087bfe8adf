package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/postgres"
)

// Version is one submission of a return as it was frozen (DOMAIN.md §6:
// every submission is kept as a version), with what changed from the
// submission before it.
type Version struct {
	Number      int
	SubmittedAt time.Time
	SubmittedBy string
	NilReturn   bool
	Lines       []VersionLine
	// Added and Removed are the lines this version has that the previous
	// one had not, and the other way round; both empty for the first.
	// A line whose note or date changed is one removed and one added.
	Added, Removed []VersionLine
}

// VersionLine is a change line as a submission froze it: the values of
// lineView, as the buyer saw them.
type VersionLine struct {
	Kind       Kind     `json:"kind"`
	Practice   string   `json:"practice"`
	Service    string   `json:"service"`
	NewService string   `json:"new_service"`
	Targets    []string `json:"targets"`
	Corrects   string   `json:"corrects"`
	Date       string   `json:"date"` // YYYY-MM-DD
	Note       string   `json:"note"`
}

// key is what makes two frozen lines the same line.
func (l VersionLine) key() string {
	service, newService := l.Service, l.NewService
	if !l.Kind.NeedsInstance() {
		service = ""
	}
	if l.Kind != Migration {
		newService = ""
	}
	return strings.Join([]string{string(l.Kind), l.Practice, service, newService, strings.Join(l.Targets, ","), l.Corrects, l.Date, l.Note}, "\x00")
}

// Versions returns every submission of the return, oldest first, each with
// the lines added and removed since the one before.
func Versions(ctx context.Context, db postgres.Querier, r Return) ([]Version, error) {
	rows, err := db.Query(ctx, `
		SELECT s.number, s.submitted_at, coalesce(u.name, ''), s.nil_return, s.lines
		FROM return_submissions s LEFT JOIN users u ON u.id = s.submitted_by
		WHERE s.return_id = $1 ORDER BY s.number`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("versions of return %d: %w", r.ID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Version, error) {
		var v Version
		var raw []byte
		if err := row.Scan(&v.Number, &v.SubmittedAt, &v.SubmittedBy, &v.NilReturn, &raw); err != nil {
			return v, err
		}
		if err := json.Unmarshal(raw, &v.Lines); err != nil {
			return v, fmt.Errorf("lines of version %d: %w", v.Number, err)
		}
		return v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("versions of return %d: %w", r.ID, err)
	}
	for i := 1; i < len(out); i++ {
		out[i].Added = missing(out[i].Lines, out[i-1].Lines)
		out[i].Removed = missing(out[i-1].Lines, out[i].Lines)
	}
	return out, nil
}

// missing returns the lines of a that b has not, counting repeats: two
// identical lines in a and one in b leave one.
func missing(a, b []VersionLine) []VersionLine {
	have := map[string]int{}
	for _, l := range b {
		have[l.key()]++
	}
	var out []VersionLine
	for _, l := range a {
		if k := l.key(); have[k] > 0 {
			have[k]--
		} else {
			out = append(out, l)
		}
	}
	return out
}
