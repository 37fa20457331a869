//go:build !unix

package embed

import (
	"errors"
	"os"
)

// mapFloats: no file mappings here (Windows, wasm); the weights are read
// into memory instead.
func mapFloats(*os.File, int64, int) ([]float32, func() error, error) {
	return nil, nil, errors.New("file mappings are not used on this platform")
}

// mapsWeights: weights can be mapped on this platform (tests).
const mapsWeights = false
