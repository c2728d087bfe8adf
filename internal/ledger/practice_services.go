package ledger

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// PracticeServices returns every service of a practice of the CCG, in
// every state (a correction may be about one that ceased long ago), in
// the ledger's order: by item, then id. A practice has a few (tens in the
// benchmark's ×10 data), so it is one query, without a page or a count.
// Another CCG's practice, or one outside scope, has none.
func PracticeServices(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode, practiceCode string) ([]Instance, error) {
	if !scope.Allows(ccgCode) {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT `+instanceColumns+instanceFrom+`
		WHERE si.ccg_code = $1 AND si.practice_code = $2
		ORDER BY p.name, si.practice_code, ci.name, si.id`, ccgCode, strings.ToUpper(practiceCode))
	if err != nil {
		return nil, fmt.Errorf("services of practice %s: %w", practiceCode, err)
	}
	return pgx.CollectRows(rows, scanInstance)
}
