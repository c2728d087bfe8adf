package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/ledger"
	"ccgtracker/internal/postgres"
)

// ReviewChecks are the automatic checks a reviewer sees beside each line
// of a return (DOMAIN.md §6, review), keyed by line id; a line with
// nothing to say has no entry. They warn, they do not refuse: the lines
// passed validation already.
//
//   - The line's service item (or a migration's new one) is on no
//     framework in force (the catalogue's frameworks not marked expired),
//     so it is only on a GPSoC Transition Assistance Notice. An Additional
//     Service counts by its parent solution. GP IT Futures itself is
//     expired in the catalogue: its successors (Tech Innovation, Advanced
//     Telephony, ...) carry the GP systems, so a normal return warns of
//     nothing.
//
//   - A practice would be left with no planned or active service once the
//     return's changes are made: each line that takes a service away from
//     it says so.
//
//   - The line's date falls in a billing month finance has closed: it
//     will come as an adjustment in the first open month.
//
//   - A merger or split sends patients to a practice of another CCG: the
//     buyer confirmed it, and the reviewer sees whose practice it is.
func ReviewChecks(ctx context.Context, db postgres.Querier, r Return) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(r.Lines) == 0 {
		return out, nil
	}
	if err := frameworkChecks(ctx, db, r, out); err != nil {
		return nil, err
	}
	if err := emptyPracticeChecks(ctx, db, r, out); err != nil {
		return nil, err
	}
	if err := closedMonthChecks(ctx, db, r, out); err != nil {
		return nil, err
	}
	if err := otherCCGChecks(ctx, db, r, out); err != nil {
		return nil, err
	}
	return out, nil
}

// closedMonthChecks flags lines dated in a closed billing month. The
// table is reconciliation's; it is read here, not written, so that the
// reviewer is warned before accepting.
func closedMonthChecks(ctx context.Context, db postgres.Querier, r Return, out map[int64][]string) error {
	rows, err := db.Query(ctx, `SELECT period FROM billing_months`)
	if err != nil {
		return fmt.Errorf("closed billing months: %w", err)
	}
	closed, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("closed billing months: %w", err)
	}
	for _, l := range r.Lines {
		for _, m := range closed {
			if PeriodOf(l.Date).First().Equal(m) {
				out[l.ID] = append(out[l.ID], fmt.Sprintf("The date falls in %s, a billing month finance has closed: accepting it makes an adjustment in the first open month.", PeriodOf(m).Name()))
			}
		}
	}
	return nil
}

// frameworkChecks flags lines whose services are on no framework in force.
func frameworkChecks(ctx context.Context, db postgres.Querier, r Return, out map[int64][]string) error {
	var ids []int64
	for _, l := range r.Lines {
		if l.InstanceID != nil {
			ids = append(ids, *l.InstanceID)
		}
		if l.NewInstanceID != nil {
			ids = append(ids, *l.NewInstanceID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `
		SELECT si.id, ci.id, ci.name,
		       EXISTS (SELECT 1 FROM framework_solutions fs JOIN frameworks f ON f.id = fs.framework_id
		               WHERE NOT f.expired AND fs.item_id = coalesce(ci.parent_id, ci.id))
		FROM service_instances si JOIN catalogue_items ci ON ci.id = si.catalogue_item_id
		WHERE si.id = ANY($1)`, ids)
	if err != nil {
		return fmt.Errorf("frameworks of services: %w", err)
	}
	type item struct {
		id, name    string
		onFramework bool
	}
	items := map[int64]item{}
	var id int64
	var it item
	if _, err := pgx.ForEachRow(rows, []any{&id, &it.id, &it.name, &it.onFramework}, func() error {
		items[id] = it
		return nil
	}); err != nil {
		return fmt.Errorf("frameworks of services: %w", err)
	}
	offFramework := func(id *int64, what string) string {
		if id == nil {
			return ""
		}
		it, ok := items[*id]
		if !ok || it.onFramework {
			return ""
		}
		return fmt.Sprintf("%s%s (%s) is on no framework in force: it is only on a GPSoC Transition Assistance Notice", what, it.name, it.id)
	}
	for _, l := range r.Lines {
		if msg := offFramework(l.InstanceID, ""); msg != "" {
			out[l.ID] = append(out[l.ID], msg)
		}
		if msg := offFramework(l.NewInstanceID, "The new service, "); msg != "" {
			out[l.ID] = append(out[l.ID], msg)
		}
	}
	return nil
}

// emptyPracticeChecks plays the return's lines, in the order the ledger
// takes them, over the planned and active services of each practice they
// name, and flags the lines that leave a practice with none. Requested
// changes count too: they are where the practice is heading.
func emptyPracticeChecks(ctx context.Context, db postgres.Querier, r Return, out map[int64][]string) error {
	names := map[string]string{}
	var practices []string
	for _, l := range r.Lines {
		if _, ok := names[l.PracticeCode]; !ok {
			practices = append(practices, l.PracticeCode)
		}
		names[l.PracticeCode] = l.PracticeName
	}
	// One query for every practice: a return of many lines across many
	// practices costs what a short one does.
	byPractice, err := ledger.ServiceIDsOfPractices(ctx, db, practices)
	if err != nil {
		return err
	}
	services := make(map[string]map[int64]bool, len(practices)) // practice → its planned and active services
	for _, p := range practices {
		set := map[int64]bool{}
		for _, id := range byPractice[p] {
			set[id] = true
		}
		services[p] = set
	}
	ins := make([]LineInput, len(r.Lines))
	idx := make([]int, len(r.Lines))
	for i, l := range r.Lines {
		ins[i], idx[i] = inputOf(l), i
	}
	orderIdx(ins, idx)
	takers := map[string][]Line{} // practice → the lines that take a service away
	for _, i := range idx {
		l := r.Lines[i]
		set := services[l.PracticeCode]
		switch l.Kind {
		case Cessation, Cancellation, Migration:
			if l.InstanceID != nil {
				delete(set, *l.InstanceID)
			}
			if l.Kind == Migration && l.NewInstanceID != nil {
				set[*l.NewInstanceID] = true
			}
		case Merger:
			clear(set)
		default:
			continue // activation, verification, correction and split leave the services in place
		}
		takers[l.PracticeCode] = append(takers[l.PracticeCode], l)
	}
	for practice, lines := range takers {
		if len(services[practice]) > 0 {
			continue
		}
		for _, l := range lines {
			msg := fmt.Sprintf("%s (%s) would be left with no planned or active service", names[practice], practice)
			if l.Kind == Merger {
				msg += ", as expected of a practice that merged: check that its patients' services continue at the receiving practice"
			}
			out[l.ID] = append(out[l.ID], msg)
		}
	}
	return nil
}

// otherCCGChecks flags mergers and splits into practices of another CCG,
// naming each with its CCG, in one query for the whole return.
func otherCCGChecks(ctx context.Context, db postgres.Querier, r Return, out map[int64][]string) error {
	var codes []string
	for _, l := range r.Lines {
		if l.Kind.Uses(FieldTargets) {
			codes = append(codes, l.Targets...)
		}
	}
	if len(codes) == 0 {
		return nil
	}
	rows, err := db.Query(ctx, `
		SELECT p.code, p.name, c.code, c.name FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.code = ANY($1) AND p.ccg_code <> $2`, codes, r.CCGCode)
	if err != nil {
		return fmt.Errorf("receiving practices of other CCGs: %w", err)
	}
	other := map[string]string{}
	var code, name, ccg, ccgName string
	if _, err := pgx.ForEachRow(rows, []any{&code, &name, &ccg, &ccgName}, func() error {
		other[code] = fmt.Sprintf("%s (%s), a practice of %s (%s)", name, code, ccgName, ccg)
		return nil
	}); err != nil {
		return fmt.Errorf("receiving practices of other CCGs: %w", err)
	}
	for _, l := range r.Lines {
		if !l.Kind.Uses(FieldTargets) {
			continue
		}
		for _, t := range l.Targets {
			if who, ok := other[t]; ok {
				out[l.ID] = append(out[l.ID], fmt.Sprintf("The patients move to another CCG: %s. The CCG confirmed it; check that the receiving CCG knows.", who))
			}
		}
	}
	return nil
}
