//go:build !unix

package sqlite

import "io/fs"

func ownerNote(fs.FileInfo) string { return "" }
