// quantlib_defaults.cpp — the QuantLib peer of ipabs's default-time
// simulation: QuantLib's RandomDefaultLM (experimental/credit) on the same
// one-factor Gaussian copula, the same names and PDs, timed alone.
//
// Each name is a (annual PD, factor loading, horizon in years) triple: the
// reference pool's ten loans (horizon = the loan's term, loading sqrt(rho))
// and the guarantor (horizon = the legal final, its own loading).  A name's
// default curve is a hazard-rate curve with the constant hazard
// -ln(1 - PD) up to its horizon and zero after it, so the events QuantLib
// simulates are ipabs's: a default within the horizon, cumulative PD
// 1 - (1 - PD)^t.  (With `--curve flat`, a FlatHazardRate instead: then
// QuantLib also solves default times beyond the horizon, up to its fixed
// maximum of 4050 days.)
//
//   quantlib_defaults --names PD:LOADING:YEARS,... [--paths N | --seconds S]
//                     [--rng sobol|mt] [--curve term|flat] [--seed S]
//
// Prints one JSON object: paths, seconds of the simulation alone (the
// first statistic's call, which runs the simulation, less the time of the
// same statistic recomputed on the stored paths), paths per second, and
// the probability of no event and the expected number of events by the
// last horizon, which bench/run.py compares with ipabs.
#include <ql/currencies/asia.hpp>
#include <ql/experimental/credit/basket.hpp>
#include <ql/experimental/credit/defaultprobabilitykey.hpp>
#include <ql/experimental/credit/defaultprobabilitylatentmodel.hpp>
#include <ql/experimental/credit/pool.hpp>
#include <ql/experimental/credit/randomdefaultlatentmodel.hpp>
#include <ql/math/interpolations/backwardflatinterpolation.hpp>
#include <ql/math/randomnumbers/mt19937uniformrng.hpp>
#include <ql/math/randomnumbers/randomsequencegenerator.hpp>
#include <ql/settings.hpp>
#include <ql/termstructures/credit/flathazardrate.hpp>
#include <ql/termstructures/credit/interpolatedhazardratecurve.hpp>
#include <ql/time/daycounters/actual365fixed.hpp>
#include <ql/version.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

using namespace QuantLib;

namespace {

struct Name {
    double pd, loading, years;
};

struct Options {
    std::vector<Name> names;
    long long paths = 0;
    double seconds = 0.0;
    std::string rng = "sobol";
    std::string curve = "term";
    unsigned long seed = 2863311530UL;
};

[[noreturn]] void usage(const char *why)
{
    std::fprintf(stderr, "quantlib_defaults: %s\nusage: quantlib_defaults --names "
                 "PD:LOADING:YEARS,... [--paths N | --seconds S] [--rng sobol|mt] "
                 "[--curve term|flat] [--seed S]\n", why);
    std::exit(2);
}

std::vector<Name> parse_names(const std::string &text)
{
    std::vector<Name> out;
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        Name n{};
        if (std::sscanf(item.c_str(), "%lf:%lf:%lf", &n.pd, &n.loading, &n.years) != 3 ||
            !(n.pd > 0.0 && n.pd < 1.0) || std::fabs(n.loading) > 1.0 || !(n.years > 0.0))
            usage(("bad name '" + item + "'").c_str());
        out.push_back(n);
    }
    if (out.empty())
        usage("no names");
    return out;
}

Options parse(int argc, char **argv)
{
    Options o;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 >= argc)
            usage(("missing value for " + a).c_str());
        std::string v = argv[++i];
        if (a == "--names") o.names = parse_names(v);
        else if (a == "--paths") o.paths = std::atoll(v.c_str());
        else if (a == "--seconds") o.seconds = std::atof(v.c_str());
        else if (a == "--rng") o.rng = v;
        else if (a == "--curve") o.curve = v;
        else if (a == "--seed") o.seed = std::strtoul(v.c_str(), nullptr, 10);
        else usage(("unknown option " + a).c_str());
    }
    if (o.names.empty() || (o.paths <= 0 && o.seconds <= 0.0))
        usage("--names and one of --paths or --seconds are required");
    if (o.rng != "sobol" && o.rng != "mt")
        usage("--rng must be sobol or mt");
    if (o.curve != "term" && o.curve != "flat")
        usage("--curve must be term or flat");
    return o;
}

// This process's peak resident memory (VmHWM), KiB; -1 if unknown.
long peak_rss_kib()
{
    long hwm = -1;
    if (FILE *f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f))
            if (std::strncmp(line, "VmHWM:", 6) == 0)
                hwm = std::strtol(line + 6, nullptr, 10);
        std::fclose(f);
    }
    return hwm;
}

double now()
{
    using namespace std::chrono;
    return duration<double>(steady_clock::now().time_since_epoch()).count();
}

struct Result {
    double sim_seconds, p_none, expected_events;
};

// Builds the pool, the basket and the latent model, simulates `paths`
// paths with RandomDefaultLM<GaussianCopulaPolicy, USNG>, and times it.
template <class USNG>
Result simulate(const Options &o, long long paths)
{
    const Date today(30, June, 2025);
    Settings::instance().evaluationDate() = today;
    const DayCounter dc = Actual365Fixed();
    const Size n = o.names.size();

    std::vector<std::string> ids;
    std::vector<std::vector<Real> > weights;
    auto pool = ext::make_shared<Pool>();
    const DefaultProbKey key = NorthAmericaCorpDefaultKey(CNYCurrency(), SeniorSec, Period(), 1.0);
    double last_years = 0.0;
    for (Size i = 0; i < n; i++) {
        const Name &nm = o.names[i];
        const Real hazard = -std::log(1.0 - nm.pd);
        ext::shared_ptr<DefaultProbabilityTermStructure> curve;
        if (o.curve == "flat") {
            curve = ext::make_shared<FlatHazardRate>(today, hazard, dc);
        } else {
            // Hazard `hazard` on (today, horizon], zero after (backward flat).
            const Date horizon = today + static_cast<Integer>(std::lround(365.0 * nm.years));
            const Date far = today + 5000;
            curve = ext::make_shared<InterpolatedHazardRateCurve<BackwardFlat> >(
                std::vector<Date>{today, horizon, far}, std::vector<Rate>{hazard, hazard, 0.0}, dc);
        }
        last_years = std::max(last_years, nm.years);
        ids.push_back("N" + std::to_string(i));
        Issuer issuer(std::vector<Issuer::key_curve_pair>{
            std::make_pair(key, Handle<DefaultProbabilityTermStructure>(curve))});
        pool->add(ids.back(), issuer, key);
        weights.push_back(std::vector<Real>{nm.loading});
    }
    auto basket = ext::make_shared<Basket>(today, ids, std::vector<Real>(n, 1.0), pool, 0.0, 1.0);
    auto latent = ext::make_shared<GaussianDefProbLM>(
        weights, LatentModelIntegrationType::GaussianQuadrature);
    auto model = ext::make_shared<RandomDefaultLM<GaussianCopulaPolicy, USNG> >(
        latent, std::vector<Real>(n, 0.0), static_cast<Size>(paths), 1.0e-6, o.seed);
    basket->setLossModel(model);

    // Statistics are at the last horizon (plus a day: events are counted
    // strictly before the date).
    const Date at = today + static_cast<Integer>(std::lround(365.0 * last_years)) + 1;
    double t0 = now();
    const Real p_any = basket->probAtLeastNEvents(1, at); // runs the simulation
    double t1 = now();
    (void)basket->probAtLeastNEvents(1, at);              // the statistic alone
    double t2 = now();
    double expected = 0.0;
    for (Size k = 1; k <= n; k++)
        expected += basket->probAtLeastNEvents(k, at);
    Result r;
    r.sim_seconds = std::max((t1 - t0) - (t2 - t1), 1e-9);
    r.p_none = 1.0 - p_any;
    r.expected_events = expected;
    return r;
}

Result run(const Options &o, long long paths)
{
    if (o.rng == "mt")
        return simulate<RandomSequenceGenerator<MersenneTwisterUniformRng> >(o, paths);
    return simulate<SobolRsg>(o, paths);
}

} // namespace

int main(int argc, char **argv)
{
    try {
        Options o = parse(argc, argv);
        long long paths = o.paths;
        if (paths <= 0) {
            paths = 256;
            double dt = run(o, paths).sim_seconds;
            while (dt < 0.15 * o.seconds && dt < 0.5) {
                paths *= 2;
                dt = run(o, paths).sim_seconds;
            }
            paths = std::max(256LL, static_cast<long long>(o.seconds / dt * paths));
        }
        Result r = run(o, paths);
        std::printf("{\"command\": \"quantlib\", \"names\": %zu, \"paths\": %lld, "
                    "\"rng\": \"%s\", \"curve\": \"%s\", \"threads\": 1, "
                    "\"seconds\": %.6f, \"paths_per_second\": %.3f, \"ns_per_path\": %.3f, "
                    "\"p_no_event\": %.17g, \"expected_events\": %.17g, "
                    "\"max_rss_kib\": %ld, \"quantlib_version\": \"%s\"}\n",
                    o.names.size(), paths, o.rng.c_str(), o.curve.c_str(), r.sim_seconds,
                    paths / r.sim_seconds, 1e9 * r.sim_seconds / paths, r.p_none,
                    r.expected_events, peak_rss_kib(), QL_VERSION);
        return 0;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "quantlib_defaults: QuantLib error: %s\n", e.what());
        return 1;
    }
}
