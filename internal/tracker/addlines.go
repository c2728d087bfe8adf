package tracker

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/org"
	"ccgtracker/internal/postgres"
)

// Many lines at once: the lines of an uploaded file are added all or none
// (DOMAIN.md §6: nothing is saved from a file that has errors), which one
// AddLine per line cannot promise, as each commits on its own.

// AddLines adds change lines to an editable return in one transaction,
// each checked against the ledger, the return's lines and the other new
// lines, under the return's lock. If any line has a problem none is saved:
// the problems come back by the line's index in ins, keyed by field (as
// AddLine's), with an Invalid error.
func AddLines(ctx context.Context, pool *pgxpool.Pool, now time.Time, actorID *int64, scope org.Scope, ccgCode string, p Period, version int, ins []LineInput) (map[int]map[string]string, error) {
	var problems map[int]map[string]string
	err := edit(ctx, pool, scope, ccgCode, p, version, func(tx pgx.Tx, r Return) error {
		if len(ins) == 0 {
			return apperr.New(apperr.Invalid, "There are no changes to add.")
		}
		if r.NilReturn {
			return apperr.New(apperr.Invalid, "This return says there were no changes this month.")
		}
		all, err := checkNew(ctx, tx, r, ins, &problems)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return apperr.New(apperr.Invalid, "The changes could not be added: nothing was saved")
		}
		for _, in := range all[len(r.Lines):] {
			if err := insertLine(ctx, tx, now, actorID, r, in); err != nil {
				return err
			}
		}
		return nil
	})
	if len(problems) == 0 {
		problems = nil
	}
	return problems, err
}

// CheckLines reports what AddLines would find wrong with ins if they were
// added to the return now, saving nothing: for showing every problem of a
// form or file at once, when some of it could not even be read.
func CheckLines(ctx context.Context, db postgres.Querier, scope org.Scope, ccgCode string, p Period, ins []LineInput) (map[int]map[string]string, error) {
	r, err := Get(ctx, db, scope, ccgCode, p)
	if err != nil {
		return nil, err
	}
	var problems map[int]map[string]string
	if _, err := checkNew(ctx, db, r, ins, &problems); err != nil {
		return nil, err
	}
	return problems, nil
}

// checkNew checks the return's lines followed by ins, and keeps the
// problems of ins alone (by their index in ins): a line already on the
// return that no longer fits the ledger is "check your answers" business,
// not the new lines'. It returns every line, normalised.
func checkNew(ctx context.Context, db postgres.Querier, r Return, ins []LineInput, problems *map[int]map[string]string) ([]LineInput, error) {
	all := make([]LineInput, 0, len(r.Lines)+len(ins))
	for _, l := range r.Lines {
		all = append(all, inputOf(l))
	}
	for _, in := range ins {
		in.Targets = append([]string(nil), in.Targets...) // the checker normalises them in place
		all = append(all, in)
	}
	probs, err := checkAll(ctx, db, r, all)
	if err != nil {
		return nil, err
	}
	out := map[int]map[string]string{}
	for i, errs := range probs {
		if i >= len(r.Lines) && len(errs) > 0 {
			out[i-len(r.Lines)] = errs
		}
	}
	*problems = out
	return all, nil
}

// insertLine saves one checked line, as AddLine does.
func insertLine(ctx context.Context, tx pgx.Tx, now time.Time, actorID *int64, r Return, in LineInput) error {
	var instanceID, newID *int64
	if id, _, ok := ParseRef(in.Instance); ok && in.Kind.NeedsInstance() {
		instanceID = &id
	}
	if id, _, ok := ParseRef(in.NewInstance); ok && in.Kind == Migration {
		newID = &id
	}
	var corrects *string
	if in.Kind == Correction {
		corrects = &in.Corrects
	}
	targets := in.Targets
	if targets == nil || (in.Kind != Merger && in.Kind != Split) {
		targets = []string{}
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO return_lines (return_id, kind, practice_code, instance_id, new_instance_id, target_practices, corrects,
			effective_date, note, carried_from, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		r.ID, in.Kind, in.Practice, instanceID, newID, targets, corrects, in.Date, in.Note, in.CarriedFrom, now, actorID); err != nil {
		if postgres.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "That requested change already has its actual date on another return.")
		}
		return fmt.Errorf("add line: %w", err)
	}
	return audit.Record(ctx, tx, now, actorID, "return.add_line", "return", r.CCGCode+"/"+r.Period.String(), nil, lineView(in))
}
