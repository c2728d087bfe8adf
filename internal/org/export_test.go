package org

import (
	"io"

	"ccgtracker/internal/refdata"
)

// ReadODS is readODS, the part of ImportODS that needs no database.
func ReadODS(r io.Reader) ([]ODSRecord, error) { return readODS(r) }

// ReadItemTypes returns the type id of every catalogue item in the shipped file.
func ReadItemTypes() ([]string, error) {
	rows, err := readCSV(refdata.FS(), "catalogue_items.csv", "CatalogueItemTypeId")
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r["CatalogueItemTypeId"]
	}
	return out, nil
}
