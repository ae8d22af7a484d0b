// A template instantiated over long types: mangled names of about 300 bytes, as Rust's run.
template <typename T> struct Holder { T value; int get() const { return sizeof(T) + 1; } };
struct AVeryLongTypeNameThatGoesOnAndOnToMakeTheMangledNameLongEnoughToPassTheOldLimitOfTheLoaderWhichWasTwoHundredFiftySixBytes {};
struct AnotherRatherLongTypeNameUsedAsASecondTemplateParameterForTheSameReasonAsTheFirstOneAboveAndThenSomeMoreWords {};
typedef Holder<AVeryLongTypeNameThatGoesOnAndOnToMakeTheMangledNameLongEnoughToPassTheOldLimitOfTheLoaderWhichWasTwoHundredFiftySixBytes> A;
typedef Holder<AnotherRatherLongTypeNameUsedAsASecondTemplateParameterForTheSameReasonAsTheFirstOneAboveAndThenSomeMoreWords> B;
template <typename X, typename Y> __attribute__((noinline)) int combine(const X &x, const Y &y) { return x.get() * 10 + y.get(); }
template int combine<A, Holder<B>>(const A &, const Holder<B> &);
__attribute__((noinline)) int pair_of_long_things(const Holder<A> &a, const Holder<Holder<B>> &b) { return a.get() + b.get(); }
extern "C" int test(void) {
    A a; Holder<B> b; Holder<A> ha; Holder<Holder<B>> hb;
    return combine(a, b) + pair_of_long_things(ha, hb) * 100;
}
