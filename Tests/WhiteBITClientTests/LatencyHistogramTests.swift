import Testing
import WhiteBITClient

@Suite struct LatencyHistogramTests {
    @Test func observationsCountInEveryBucketAtOrAboveThem() {
        var histogram = LatencyHistogram()
        for seconds in [0.01, 0.025, 0.3, 7, 120] { histogram.observe(seconds: seconds) }
        let byBound = Dictionary(uniqueKeysWithValues: zip(LatencyHistogram.bounds, histogram.cumulativeCounts))
        #expect(byBound[0.025] == 2, "a bound is inclusive (le)")
        #expect(byBound[0.05] == 2)
        #expect(byBound[0.5] == 3)
        #expect(byBound[10] == 4)
        #expect(byBound[60] == 4, "past the last bound only +Inf counts it")
        #expect(histogram.count == 5)
        #expect(abs(histogram.sum - 127.335) < 1e-9)
        #expect(histogram.cumulativeCounts == histogram.cumulativeCounts.sorted(), "cumulative")
    }

    @Test func theBoundsRiseAndCoverTheRequestTimeoutsDefault() {
        #expect(LatencyHistogram.bounds == LatencyHistogram.bounds.sorted())
        #expect(Set(LatencyHistogram.bounds).count == LatencyHistogram.bounds.count)
        #expect(LatencyHistogram.bounds.contains(10), "whitebit.request_timeout's default is a bucket edge")
    }
}
