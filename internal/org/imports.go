package org

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Kinds of import in the history.
const (
	ImportKindListSizes = "list_sizes"
	ImportKindODS       = "ods"
)

// Import is one run of an import, as the history keeps it.
type Import struct {
	ID          int64
	Kind        string
	FileName    string
	At          time.Time
	By          string // the admin's name, or "the command line"
	Counts      map[string]int
	Report      json.RawMessage // what the import listed, by kind
	ExtractDate *time.Time      // a list-size import's extract
}

const importColumns = `i.id, i.kind, i.file_name, i.imported_at, coalesce(u.name, 'the command line'), i.counts, i.report`

func scanImport(row pgx.CollectableRow) (Import, error) {
	var im Import
	if err := row.Scan(&im.ID, &im.Kind, &im.FileName, &im.At, &im.By, &im.Counts, &im.Report); err != nil {
		return im, err
	}
	var rep struct {
		ExtractDate string `json:"extract_date"`
	}
	if json.Unmarshal(im.Report, &rep) == nil && rep.ExtractDate != "" {
		if d, err := time.Parse(time.DateOnly, rep.ExtractDate); err == nil {
			im.ExtractDate = &d
		}
	}
	return im, nil
}

// Imports is one page of the history of imports of a kind, newest first.
func Imports(ctx context.Context, db postgres.Querier, kind string, page paging.Page) (paging.Result[Import], error) {
	res, err := postgres.Paged(ctx, db, page, importColumns, `FROM imports i LEFT JOIN users u ON u.id = i.imported_by WHERE i.kind = $1`,
		`i.imported_at DESC, i.id DESC`, scanImport, kind)
	if err != nil {
		return res, fmt.Errorf("imports: %w", err)
	}
	return res, nil
}

// GetImport is one import of the history.
func GetImport(ctx context.Context, db postgres.Querier, id int64) (Import, error) {
	rows, err := db.Query(ctx, `SELECT `+importColumns+` FROM imports i LEFT JOIN users u ON u.id = i.imported_by WHERE i.id = $1`, id)
	if err != nil {
		return Import{}, fmt.Errorf("import %d: %w", id, err)
	}
	im, err := pgx.CollectExactlyOneRow(rows, scanImport)
	if err != nil {
		return Import{}, postgres.NotFound(err, "No import has the number %d.", id)
	}
	return im, nil
}
