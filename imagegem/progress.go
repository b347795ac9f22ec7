package imagegem

import "github.com/imagegem/imagegem-go/internal/progress"

// Progress is one report of a long operation ([IngestCivitai], and synth's generator): the
// stage, the units done out of the total. Returning from a Progress callback never stops the
// work; cancel the operation's context instead.
type Progress = progress.Progress
