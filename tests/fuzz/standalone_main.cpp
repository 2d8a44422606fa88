// fleet fuzzing — a main() for fuzz targets when no libFuzzer runtime is at
// hand. It runs every input given (files, or folders of files), then, with
// -runs=N or -max_total_time=S, random mutations of them: not coverage
// guided, but enough to shake out crashes under ASan/UBSan and to replay a
// crash file. Flags mirror libFuzzer's: -runs, -max_total_time, -seed,
// -max_len, -artifact_prefix; others are ignored.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
// From the sanitizer runtime, when there is one.
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

std::string current;          // the input being run
std::string artifact_prefix;  // where a crashing input is saved

void save_current()
{
    std::string path = artifact_prefix + "crash-standalone";
    if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(current.data(), 1, current.size(), f);
        std::fclose(f);
        std::fprintf(stderr, "standalone: input saved to %s (%zu bytes)\n", path.c_str(), current.size());
    }
}

void run_one(const std::string& input)
{
    current = input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(current.data()), current.size());
}

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const char* const dictionary[] = {"{",
                                  "}",
                                  "[",
                                  "]",
                                  "\"",
                                  ":",
                                  ",",
                                  "\n",
                                  "\r\n",
                                  " ",
                                  "\"QMP\"",
                                  "\"return\"",
                                  "\"error\"",
                                  "\"event\"",
                                  "\"id\"",
                                  "\"class\"",
                                  "\"desc\"",
                                  "\"data\"",
                                  "\"timestamp\"",
                                  "\"version\"",
                                  "\"capabilities\"",
                                  "null",
                                  "true",
                                  "false",
                                  "0",
                                  "-1",
                                  "1.5",
                                  "1e999",
                                  "18446744073709551615",
                                  "18446744073709551616",
                                  "\\u0000",
                                  "\\ud800",
                                  "\\udc00",
                                  "\\\"",
                                  "{}",
                                  "[]",
                                  "\xff",
                                  "\xc3\x28",
                                  "\"SHUTDOWN\"",
                                  "\"GenericError\""};

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng, std::size_t max_len)
{
    auto pick = [&](std::size_t n) { return n == 0 ? std::size_t{0} : static_cast<std::size_t>(rng() % n); };
    int rounds = 1 + static_cast<int>(pick(4));
    for (int i = 0; i < rounds; ++i) {
        switch (pick(9)) {
            case 0:  // flip a bit
                if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
                break;
            case 1:  // set a byte
                if (!s.empty()) s[pick(s.size())] = static_cast<char>(rng());
                break;
            case 2:  // insert bytes
                s.insert(pick(s.size() + 1), std::string(1 + pick(4), static_cast<char>(rng())));
                break;
            case 3:  // erase a range
                if (!s.empty()) {
                    std::size_t at = pick(s.size());
                    s.erase(at, 1 + pick(std::min<std::size_t>(16, s.size() - at)));
                }
                break;
            case 4:  // duplicate a range
                if (!s.empty()) {
                    std::size_t at = pick(s.size()), len = 1 + pick(std::min<std::size_t>(64, s.size() - at));
                    s.insert(pick(s.size() + 1), s.substr(at, len));
                }
                break;
            case 5:  // a dictionary word
                s.insert(pick(s.size() + 1), dictionary[pick(std::size(dictionary))]);
                break;
            case 6:  // splice with another input
                if (!corpus.empty()) {
                    const std::string& o = corpus[pick(corpus.size())];
                    s = s.substr(0, pick(s.size() + 1)) + o.substr(pick(o.size() + 1));
                }
                break;
            case 7:  // truncate
                s.resize(pick(s.size() + 1));
                break;
            case 8:  // change the first byte (the chunking seed of qmp_fuzzer)
                if (!s.empty()) s[0] = static_cast<char>(rng());
                break;
        }
    }
    if (s.size() > max_len) s.resize(max_len);
    return s;
}

}  // namespace

int main(int argc, char** argv)
{
    long long runs = -1;
    double max_time = 0;
    std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    std::size_t max_len = 4096;
    std::vector<std::string> corpus;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char* flag) -> const char* {
            std::size_t n = std::strlen(flag);
            return a.compare(0, n, flag) == 0 ? a.c_str() + n : nullptr;
        };
        if (const char* v = value("-runs="))
            runs = std::atoll(v);
        else if (const char* v = value("-max_total_time="))
            max_time = std::atof(v);
        else if (const char* v = value("-seed="))
            seed = std::strtoull(v, nullptr, 10);
        else if (const char* v = value("-max_len="))
            max_len = std::strtoull(v, nullptr, 10);
        else if (const char* v = value("-artifact_prefix="))
            artifact_prefix = v;
        else if (a.starts_with("-"))
            continue;
        else if (!std::filesystem::exists(a))
            continue;
        else if (std::filesystem::is_directory(a)) {
            for (const auto& e : std::filesystem::directory_iterator(a))
                if (e.is_regular_file()) corpus.push_back(read_file(e.path()));
        } else {
            corpus.push_back(read_file(a));
        }
    }
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current);

    auto start = std::chrono::steady_clock::now();
    long long execs = 0;
    for (const auto& input : corpus) {
        run_one(input);
        ++execs;
    }
    std::fprintf(stderr, "standalone: ran %zu inputs\n", corpus.size());
    if (corpus.empty()) corpus.push_back("");

    std::mt19937_64 rng(seed);
    std::fprintf(stderr, "standalone: seed %llu\n", static_cast<unsigned long long>(seed));
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    long long mutated = 0;
    while ((runs >= 0 && mutated < runs) || (runs < 0 && max_time > 0 && elapsed() < max_time)) {
        run_one(mutate(corpus[rng() % corpus.size()], corpus, rng, max_len));
        ++mutated;
        ++execs;
    }
    std::fprintf(stderr, "Done %lld runs in %.0f second(s)\n", execs, elapsed());
    return 0;
}
