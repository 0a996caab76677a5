"""The SES simulator through another SES client: boto3 (the AWS SDK for Python).

Run by scripts/test.sh against `dkimdash simulator` at SES_ENDPOINT.
"""

import os
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("SES_ENDPOINT", "http://127.0.0.1:4566")


def client(service, region="us-east-1"):
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id="AKIDBOTO3TEST",
        aws_secret_access_key="any-secret",
        config=Config(retries={"max_attempts": 1}),
    )


class Boto3AgainstSimulator(unittest.TestCase):
    def setUp(self):
        self.v2 = client("sesv2")
        self.v1 = client("ses")

    def error(self, call, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(**kwargs)
        return caught.exception.response["Error"]

    def test_easy_dkim_identity_round_trip(self):
        created = self.v2.create_email_identity(EmailIdentity="boto3-easy.example")
        tokens = created["DkimAttributes"]["Tokens"]
        self.assertEqual(len(tokens), 3)
        self.assertTrue(all(len(t) == 32 and t == t.lower() for t in tokens))
        self.assertEqual(created["DkimAttributes"]["Status"], "PENDING")

        read = self.v2.get_email_identity(EmailIdentity="boto3-easy.example")
        self.assertEqual(read["DkimAttributes"]["Tokens"], tokens)
        self.assertEqual(read["DkimAttributes"]["SigningAttributesOrigin"], "AWS_SES")
        self.assertIn("LastKeyGenerationTimestamp", read["DkimAttributes"])

        names = [i["IdentityName"] for i in self.v2.list_email_identities(PageSize=1000)["EmailIdentities"]]
        self.assertIn("boto3-easy.example", names)

        v1 = self.v1.get_identity_dkim_attributes(Identities=["boto3-easy.example"])
        attributes = v1["DkimAttributes"]["boto3-easy.example"]
        self.assertEqual(attributes["DkimVerificationStatus"], "Pending")
        self.assertEqual(attributes["DkimTokens"], tokens)

    def test_key_length_change_and_signing_switch(self):
        self.v2.create_email_identity(EmailIdentity="boto3-keys.example")
        out = self.v2.put_email_identity_dkim_signing_attributes(
            EmailIdentity="boto3-keys.example",
            SigningAttributesOrigin="AWS_SES",
            SigningAttributes={"NextSigningKeyLength": "RSA_1024_BIT"},
        )
        self.assertEqual(len(out["DkimTokens"]), 3)
        self.v2.put_email_identity_dkim_attributes(EmailIdentity="boto3-keys.example", SigningEnabled=False)
        read = self.v2.get_email_identity(EmailIdentity="boto3-keys.example")
        self.assertFalse(read["DkimAttributes"]["SigningEnabled"])
        self.assertEqual(read["DkimAttributes"]["NextSigningKeyLength"], "RSA_1024_BIT")

    def test_errors_carry_ses_codes_and_messages(self):
        missing = self.error(self.v2.get_email_identity, EmailIdentity="nowhere.example")
        self.assertEqual(missing["Code"], "NotFoundException")

        self.v2.create_email_identity(EmailIdentity="boto3-dup.example")
        dup = self.error(self.v2.create_email_identity, EmailIdentity="boto3-dup.example")
        self.assertEqual(dup["Code"], "AlreadyExistsException")

        bad = self.error(
            self.v2.put_email_identity_dkim_signing_attributes,
            EmailIdentity="boto3-dup.example",
            SigningAttributesOrigin="EXTERNAL",
            SigningAttributes={"DomainSigningSelector": "bad_selector", "DomainSigningPrivateKey": "QUJD"},
        )
        self.assertEqual(bad["Code"], "BadRequestException")
        self.assertIn("DomainSigningSelector", bad["Message"])

    def test_v1_verify_calls(self):
        tokens = self.v1.verify_domain_dkim(Domain="boto3-v1.example")["DkimTokens"]
        self.assertEqual(len(tokens), 3)
        token = self.v1.verify_domain_identity(Domain="boto3-txt.example")["VerificationToken"]
        self.assertTrue(token)
        listed = self.v1.list_identities(IdentityType="Domain", MaxItems=1000)["Identities"]
        self.assertIn("boto3-v1.example", listed)

    def test_regions_are_separate(self):
        west = client("sesv2", "eu-west-1")
        west.create_email_identity(EmailIdentity="boto3-west.example")
        west_names = [i["IdentityName"] for i in west.list_email_identities(PageSize=1000)["EmailIdentities"]]
        self.assertIn("boto3-west.example", west_names)
        east_names = [i["IdentityName"] for i in self.v2.list_email_identities(PageSize=1000)["EmailIdentities"]]
        self.assertNotIn("boto3-west.example", east_names)
        with self.assertRaises(self.v2.exceptions.NotFoundException):
            self.v2.get_email_identity(EmailIdentity="boto3-west.example")


if __name__ == "__main__":
    unittest.main(verbosity=2)
