package recsystest_test

import (
	"fmt"

	"github.com/imagegem/imagegem-go/recsys/recsystest"
)

func ExamplePlantedSplit() {
	in, s, _ := recsystest.PlantedSplit(1)
	fmt.Println(in.NumUsers(), "users,", s.NumItems, "items; user 3 walks cluster", s.Train[3][0]/recsystest.ClusterSize)
	// Output: 240 users, 80 items; user 3 walks cluster 3
}
