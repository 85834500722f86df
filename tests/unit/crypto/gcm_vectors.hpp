// SPDX-License-Identifier: BSD-3-Clause
// Published AES-256-GCM test vectors (sources named per block).
#pragma once
#include <cstdint>
namespace meshgw::crypto::test {

// Hex strings, lower case, no spaces; "" for empty.
struct GcmVector {
  const char* name;
  const char* key;        // 32 bytes
  const char* iv;         // 12 bytes, except in kGcmSpecVarIvVectors
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;        // full 16-byte tag
  bool valid;             // false: tag verification must fail (CAVP FAIL entries)
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 13..18 (AES-256).
// Only the ones with a 96-bit IV (13, 14, 15, 16) go here since we only support 96-bit nonces.
//
// Copied from: gnutls/nettle testsuite/gcm-test.c ("Test case 13".."Test case 16", nettle_gcm_aes256);
// cross-checked against tink-crypto/tink java_src/src/test/java/com/google/crypto/tink/aead/
// AesGcmKeyManagerTest.java (NistTestVector "Test Case 13".."18", from gcm-revised-spec.pdf).
//
// Test cases 17 and 18 use an 8-byte and a 60-byte IV (J0 derived through GHASH); they are in
// kGcmSpecVarIvVectors below and go through Aes256Gcm::seal_any_iv/open_any_iv.
inline constexpr GcmVector kGcmSpecVectors[] = {
    {"McGrew-Viega GCM spec Test Case 13",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "",
     "",
     "",
     "530f8afbc74536b9a963b4f1c4cb738b",
     true},
    {"McGrew-Viega GCM spec Test Case 14",
     "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000",
     "00000000000000000000000000000000",
     "",
     "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919",
     true},
    {"McGrew-Viega GCM spec Test Case 15",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c",
     true},
    {"McGrew-Viega GCM spec Test Case 16",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b",
     true},
};

// McGrew & Viega test cases 17 and 18 (same key, plaintext and AAD as 16; 64-bit and 480-bit IV).
// Copied from the spec's listing as reproduced in several public test suites (e.g. Go and OCaml
// crypto tests, gcm-revised-spec.pdf text), all agreeing.
inline constexpr GcmVector kGcmSpecVarIvVectors[] = {
    {"McGrew-Viega GCM spec Test Case 17 (64-bit IV)",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbad",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
     "3a337dbf46a792c45e454913fe2ea8f2",
     true},
    {"McGrew-Viega GCM spec Test Case 18 (480-bit IV)",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf40fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
     "a44a8266ee1c8eb0c8b5d4cf5ae9f19a",
     true},
};

// NIST CAVP gcmEncryptExtIV256.rsp and gcmDecrypt256.rsp: a sample of at least 12 entries with
// 96-bit IV and 128-bit tag, covering: empty PT and empty AAD, PT only, AAD only, both, several
// lengths (e.g. PTlen 0,128,104,256,408 bits; AADlen 0,128,160,384,720 bits), and at least 4 FAIL entries
// from gcmDecrypt256 (valid=false). The names say file, [Keylen/IVlen/PTlen/AADlen/Taglen] section and Count.
//
// CAVS 14.0 (gcmtestvectors.zip, csrc.nist.gov). The .rsp files themselves were not available to copy;
// entries were copied from repositories that embed them verbatim, and cross-checked:
//   gcmEncryptExtIV256.rsp:
//     RustCrypto/AEADs aes-gcm/tests/aes256gcm.rs (every 96-bit-IV / 128-bit-tag entry, in file order;
//       Count = position within its section, 15 entries per section);
//     google/quiche quiche/quic/core/crypto/aes_256_gcm_encrypter_test.cc (selected entries);
//     Tink's TypeScript AES-GCM test ("with nist test vectors": first entry of each section, in
//       file order);
//     a C test with "/* Count = N */" annotations per section (PTlen 0/128/408, AADlen 0).
//   gcmDecrypt256.rsp:
//     aws/aws-sdk-php tests/Crypto/Polyfill/AesGcmTest.php (testNISTVectorsAes256Gcm: every
//       96-bit-IV / 128-bit-tag entry in file order, with "FAIL" markers; Count = position in section);
//     google/quiche quiche/quic/core/crypto/aes_256_gcm_decrypter_test.cc (selected entries, FAIL marks);
//     a Rust KAT file naming entries "PTlen=.. AADlen=.. Count=.." (Counts agree with the positions).
// For FAIL entries the .rsp gives no PT: plaintext is "" and only key/iv/ciphertext/aad/tag matter;
// decryption must be rejected (do not use them for encryption tests).
inline constexpr GcmVector kCavpVectors[] = {
    // ---- gcmEncryptExtIV256.rsp ----
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 0][Taglen = 128] Count = 0",
     "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
     "516c33929df5a3284ff463d7",
     "",
     "",
     "",
     "bdc1ac884d332457a1d2664f168c76f0",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 128][Taglen = 128] Count = 0",
     "78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223",
     "d79cf22d504cc793c3fb6c8a",
     "",
     "b96baa8c1c75a671bfb2d08d06be5f36",
     "",
     "3e5d486aa2e30b22e040b85723a06e76",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 160][Taglen = 128] Count = 0",
     "886cff5f3e6b8d0e1ad0a38fcdb26de97e8acbe79f6bed66959a598fa5047d65",
     "3a8efa1cd74bbab5448f9945",
     "",
     "519fee519d25c7a304d6c6aa1897ee1eb8c59655",
     "",
     "f6d47505ec96c98a42dc3ae719877b87",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 384][Taglen = 128] Count = 0",
     "f4069bb739d07d0cafdcbc609ca01597f985c43db63bbaaa0debbb04d384e49c",
     "d25ff30fdc3d464fe173e805",
     "",
     "3e1449c4837f0892f9d55127c75c4b25d69be334baf5f19394d2d8bb460cbf2120e14736d0f634aa792feca20e455f11",
     "",
     "805ec2931c2181e5bfb74fa0a975f0cf",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 128][AADlen = 0][Taglen = 128] Count = 0",
     "31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22",
     "0d18e06c7c725ac9e362e1ce",
     "2db5168e932556f8089a0622981d017d",
     "",
     "fa4362189661d163fcd6a56d8bf0405a",
     "d636ac1bbedd5cc3ee727dc2ab4a9489",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 128][AADlen = 128][Taglen = 128] Count = 0",
     "92e11dcdaa866f5ce790fd24501f92509aacf4cb8b1339d50c9c1240935dd08b",
     "ac93a1a6145299bde902f21a",
     "2d71bcfa914e4ac045b2aa60955fad24",
     "1e0889016f67601c8ebea4943bc23ad6",
     "8995ae2e6df3dbf96fac7b7137bae67f",
     "eca5aa77d51d4a0a14d9c51e1da474ab",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 104][AADlen = 0][Taglen = 128] Count = 0",
     "82c4f12eeec3b2d3d157b0f992d292b237478d2cecc1d5f161389b97f999057a",
     "7b40b20f5f397177990ef2d1",
     "982a296ee1cd7086afad976945",
     "",
     "ec8e05a0471d6b43a59ca5335f",
     "113ddeafc62373cac2f5951bb9165249",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 256][AADlen = 384][Taglen = 128] Count = 0",
     "dc776f0156c15d032623854b625c61868e5db84b7b6f9fbd3672f12f0025e0f6",
     "67130951c4a57f6ae7f13241",
     "9378a727a5119595ad631b12a5a6bc8a91756ef09c8d6eaa2b718fe86876da20",
     "fd0920faeb7b212932280a009bac969145e5c316cf3922622c3705c3457c4e9f124b2076994323fbcfb523f8ed16d241",
     "6d958c20870d401a3c1f7a0ac092c97774d451c09f7aae992a8841ff0ab9d60d",
     "b876831b4ecd7242963b040aa45c4114",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 0][Taglen = 128] Count = 0",
     "1fded32d5999de4a76e0f8082108823aef60417e1896cf4218a2fa90f632ec8a",
     "1f3afa4711e9474f32e70462",
     "06b2c75853df9aeb17befd33cea81c630b0fc53667ff45199c629c8e15dce41e530aa792f796b8138eeab2e86c7b7bee1d40b0",
     "",
     "91fbd061ddc5a7fcc9513fcdfdc9c3a7c5d4d64cedf6a9c24ab8a77c36eefbf1c5dc00bc50121b96456c8cd8b6ff1f8b3e480f",
     "30096d340f3d5c42d82a6f475def23eb",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 160][Taglen = 128] Count = 0",
     "24501ad384e473963d476edcfe08205237acfd49b5b8f33857f8114e863fec7f",
     "9ff18563b978ec281b3f2794",
     "27f348f9cdc0c5bd5e66b1ccb63ad920ff2219d14e8d631b3872265cf117ee86757accb158bd9abb3868fdc0d0b074b5f01b2c",
     "adb5ec720ccf9898500028bf34afccbcaca126ef",
     "eb7cb754c824e8d96f7c6d9b76c7d26fb874ffbf1d65c6f64a698d839b0b06145dae82057ad55994cf59ad7f67c0fa5e85fab8",
     "bc95c532fecc594c36d1550286a7a3f0",
     true},
    {"gcmEncryptExtIV256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 720][Taglen = 128] Count = 0",
     "148579a3cbca86d5520d66c0ec71ca5f7e41ba78e56dc6eebd566fed547fe691",
     "b08a5ea1927499c6ecbfd4e0",
     "9d0b15fdf1bd595f91f8b3abc0f7dec927dfd4799935a1795d9ce00c9b879434420fe42c275a7cd7b39d638fb81ca52b49dc41",
     "e4f963f015ffbb99ee3349bbaf7e8e8e6c2a71c230a48f9d59860a29091d2747e01a5ca572347e247d25f56ba7ae8e05cde2be3c97931292c02370208ecd097ef692687fecf2f419d3200162a6480a57dad408a0dfeb492e2c5d",
     "2097e372950a5e9383c675e89eea1c314f999159f5611344b298cda45e62843716f215f82ee663919c64002a5c198d7878fd3f",
     "adbecdb0d5c2224d804d2886ff9a5760",
     true},
    // ---- gcmDecrypt256.rsp ----
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 0][Taglen = 128] Count = 0",
     "f5a2b27c74355872eb3ef6c5feafaa740e6ae990d9d48c3bd9bb8235e589f010",
     "58d2240f580a31c1d24948e9",
     "",
     "",
     "",
     "15e051a5e4a5f5da6cea92e2ebee5bac",
     true},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 0][Taglen = 128] Count = 1 (FAIL)",
     "e5a8123f2e2e007d4e379ba114a2fb66e6613f57c72d4e4f024964053028a831",
     "51e43385bf533e168427e1ad",
     "",
     "",
     "",
     "38fe845c66e66bdd884c2aecafd280e6",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 0][AADlen = 128][Taglen = 128] Count = 4 (FAIL)",
     "2c392a5eb1a9c705371beda3a901c7c61dca4d93b4291de1dd0dd15ec11ffc45",
     "0723fb84a08f4ea09841f32a",
     "",
     "140be561b6171eab942c486a94d33d43",
     "",
     "aa0e1c9b57975bfc91aa137231977d2c",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 128][AADlen = 0][Taglen = 128] Count = 0",
     "4c8ebfe1444ec1b2d503c6986659af2c94fafe945f72c1e8486a5acfedb8a0f8",
     "473360e0ad24889959858995",
     "7789b41cb3ee548814ca0b388c10b343",
     "",
     "d2c78110ac7e8f107c0df0570bd7c90c",
     "c26a379b6d98ef2852ead8ce83a833a7",
     true},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 128][AADlen = 0][Taglen = 128] Count = 2 (FAIL)",
     "c997768e2d14e3d38259667a6649079de77beb4543589771e5068e6cd7cd0b14",
     "835090aed9552dbdd45277e2",
     "",
     "",
     "9f6607d68e22ccf21928db0986be126e",
     "f32617f67c574fd9f44ef76ff880ab9f",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 104][AADlen = 0][Taglen = 128] Count = 0 (FAIL)",
     "8b37c4b8cf634704920059866ad96c49e9da502c63fca4a3a7a4dcec74cb0610",
     "cb59344d2b06c4ae57cd0ea4",
     "",
     "",
     "66ab935c93555e786b775637a3",
     "d8733acbb564d8afaa99d7ca2e2f92a9",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 256][AADlen = 384][Taglen = 128] Count = 2 (FAIL)",
     "fff8747f38466904e99409f9dd8ed202f0e1a3e9e4768fe7f3a0b39c523bbbef",
     "bd4ea7d286dfc0948145e37d",
     "",
     "d95546e9a05a8363f848419ce4d96f148a2d722f2bc15e5b6599b7eef1fb8ac52b3a2cf97cd6fecc67fa0bde6367b575",
     "e8b7aed2ece9207ec158dc6d9b6fbf941197964820a9b0e5d8d30969c89b3e77",
     "2379d116e1152171fbc184bc8b760845",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 160][Taglen = 128] Count = 0 (FAIL)",
     "e9d381a9c413bee66175d5586a189836e5c20f5583535ab4d3f3e612dc21700e",
     "23e81571da1c7821c681c7ca",
     "",
     "6f39c9ae7b8e8a58a95f0dd8ea6a9087cbccdfd6",
     "a25f3f580306cd5065d22a6b7e9660110af7204bb77d370f7f34bee547feeff7b32a596fce29c9040e68b1589aad48da881990",
     "5b6dcd70eefb0892fab1539298b92a4b",
     false},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 160][Taglen = 128] Count = 2",
     "6450d4501b1e6cfbe172c4c8570363e96b496591b842661c28c2f6c908379cad",
     "7e4262035e0bf3d60e91668a",
     "17449e236ef5858f6d891412495ead4607bfae2a2d735182a2a0242f9d52fc5345ef912dbe16f3bb4576fe3bcafe336dee6085",
     "f1c522f026e4c5d43851da516a1b78768ab18171",
     "5a99b336fd3cfd82f10fb08f7045012415f0d9a06bb92dcf59c6f0dbe62d433671aacb8a1c52ce7bbf6aea372bf51e2ba79406",
     "fe93b01636f7bb0458041f213e98de65",
     true},
    {"gcmDecrypt256.rsp [Keylen = 256][IVlen = 96][PTlen = 408][AADlen = 720][Taglen = 128] Count = 0 (FAIL)",
     "e36aca93414b13f5313e76a7244588ee116551d1f34c32859166f2eb0ac1a9b7",
     "e9e701b1ccef6bddd03391d8",
     "",
     "6a08fe6e55a08f283cec4c4b37676e770f402af6102f548ad473ec6236da764f7076ffd41bbd9611b439362d899682b7b0f839fc5a68d9df54afd1e2b3c4e7d072454ee27111d52193d28b9c4f925d2a8b451675af39191a2cba",
     "5b059ac6733b6de0e8cf5b88b7301c02c993426f71bb12abf692e9deeacfac1ff1644c87d4df130028f515f0feda636309a24d",
     "43c7c9c93cc265fc8e192000e0417b5b",
     false},
};

// draft-mcgrew-gcm-test-01 (GCM test vectors for ESP): every test case that uses a 256-bit key
// (the key in the draft is 32 bytes AES key followed by a 4-byte salt).
//
// Copied from the draft text (copy: ysoftwareab/know-your-ietf-well draft-mcgrew-gcm-test-01.txt,
// Section 4, March 2009); cross-checked against an independent transcription of all Section 4 cases
// (Python "Testcase(...)" list in a GPL AES-GCM bench) and, for the page-9 case, ell's unit test
// (gcm_test3, which splits ciphertext/tag the same way).
// Note on the draft's layout: Section 4 lists "key" as the bare AES key (32 octets for these cases)
// and gives "nonce" = Salt || IV (RFC 4106); the salt below is the first 4 octets of that nonce and
// the IV is the last 8 octets (also the 8 octets after SPI || 32-bit seq in the draft's "packet").
// The draft's "ctext+tag" is split here into ciphertext (len = plaintext len) and the 16-byte ICV.
// The draft does not number its cases; names give the position in Section 4 (1-based) and the page.
// Cases 1,2,4,5,6,8,10,12,13,16,17 use 128-bit keys and case 7 a 192-bit key (skipped);
// case 15 is AES-GMAC-ESP with a 128-bit key (skipped).
// AAD: SPI || 32-bit seq (8 octets), or SPI || ESN high 32 bits || ESN low 32 bits (12 octets, RFC 4106 s.5).
struct EspGcmVector {
  const char* name;
  const char* key;         // 32-byte AES key
  const char* salt;        // 4 bytes
  uint32_t spi;
  uint64_t seq;            // 32-bit sequence number, or the full 64-bit ESN where the case uses ESN
  bool esn;                // true where the AAD is SPI + 64-bit ESN (12 bytes)
  const char* iv;          // 8-byte explicit IV as in the packet
  const char* aad;         // as given in the draft (8 or 12 bytes)
  const char* plaintext;   // ESP payload as given: inner packet + padding + pad length + next header
  const char* ciphertext;  // ciphertext as given, WITHOUT the ICV
  const char* tag;         // 16-byte ICV
};
inline constexpr EspGcmVector kEspDraftVectors[] = {
    {"draft-mcgrew-gcm-test-01 sec.4 case 3 (page 9): AES-256, 32-bit seq",
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
     "11223344",
     0x4a2cbfe3u,
     0x00000002u,
     false,
     "0102030405060708",
     "4a2cbfe300000002",
     "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
     "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
     "b335f4eecfdbf831824b4c4915956c96"},
    {"draft-mcgrew-gcm-test-01 sec.4 case 9 (page 14): AES-256, ESN",
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
     "73616c74",
     0x17405e67u,
     0x156f3126dd0db99bull,
     true,
     "616e640169766563",
     "17405e67156f3126dd0db99b",
     "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001",
     "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e",
     "451626c2415771e3b7eebca614c89b35"},
    {"draft-mcgrew-gcm-test-01 sec.4 case 11 (page 16): AES-256, ESN",
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab",
     "73616c74",
     0x17405e67u,
     0x156f3126dd0db99bull,
     true,
     "616e640169766563",
     "17405e67156f3126dd0db99b",
     "636973636f0172756c657301746865016e6574776501646566696e6501746865746563686e6f6c6f67696573017468617477696c6c01646566696e65746f6d6f72726f7701020201",
     "d4b7ed86a1777f2ea13d6973d324c69e7b43f826fb56831226508bebd2dceb18d0a6df10e5487df074113e14c641024e3e6773d91a62ee429b043a10e3efe6b012a49363412364f8",
     "c0cac587f249e56b11e24f30e44ccc76"},
    {"draft-mcgrew-gcm-test-01 sec.4 case 14 (page 18): AES-256, ESN",
     "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961",
     "7475726e",
     0x796b6963u,
     0xffffffffffffffffull,
     true,
     "333021696765746d",
     "796b6963ffffffffffffffff",
     "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
     "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe821dcc63b9",
     "d0937ba2945f669368661a329fb4c053"},
};

}  // namespace meshgw::crypto::test
